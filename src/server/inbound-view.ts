/**
 * One inbound request as the security layers read it: the JWT
 * authenticator (token locations) and the authorization engine (attributes).
 * Built once per request from what node's HTTP/1.1 and HTTP/2 servers
 * already parsed; header values are read only when a policy asks.
 */

import { findQueryValue, queryValueEnd } from '../net/query.js';
import type { AuthzRequest } from '../security/authz/attributes.js';
import type { AuthRequest } from '../security/jwt/token-locations.js';
import type { Peer } from './peer.js';

type NodeHeaders = Record<string, string | string[] | undefined>;

/** The local end of the connection: what `destination.ip`, `destination.port` and `connection.sni` read. */
export interface LocalSide {
  readonly localAddress?: string | undefined;
  readonly localPort?: number | undefined;
  /** A TLS socket's SNI; false or absent otherwise. */
  readonly servername?: string | false | null | undefined;
}

/** `s` upper-cased; `s` itself (no runtime call) when it is upper case already. */
function upperCase(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 65 || c > 90) return s.toUpperCase();
  }
  return s;
}

function unmapped(address: string | undefined): string | undefined {
  return address?.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/**
 * Only what every check reads is stored when the view is built (the peer's
 * principal and address, the path); the method, host and the local socket's
 * address, port and SNI are read the first time a policy asks, then kept.
 * The one ALLOW policy of a typical workload names a method and paths only,
 * so a request then never reads the host header (a lookup in node's headers
 * dictionary) or the socket's getters, and the constructor is small enough
 * for TurboFan to inline into its caller: building the view eagerly cost
 * ~740 instructions per request under callgrind (a generic construct stub,
 * toUpperCase in the runtime, the socket getters).
 */
export class InboundView implements AuthzRequest, AuthRequest {
  readonly principal: string | undefined;
  requestPrincipal: string | undefined;
  claims: Readonly<Record<string, unknown>> | undefined;
  readonly sourceIp: string;
  readonly path: string;
  readonly #sentMethod: string | undefined;
  readonly #headers: NodeHeaders;
  readonly #socket: LocalSide;
  #method: string | undefined = undefined;
  #host: string | undefined = undefined;
  /** -1 until the socket's side has been read: then destinationIp, sni and port hold it. */
  #port = -1;
  #destinationIp: string | undefined = undefined;
  #sni: string | undefined = undefined;

  /** `path` must already be normalized (normalizePath): authorization matches it as it is. */
  constructor(method: string | undefined, path: string, headers: NodeHeaders, peer: Peer, socket: LocalSide) {
    this.principal = peer.principal;
    this.sourceIp = peer.address;
    this.path = path;
    this.#sentMethod = method;
    this.#headers = headers;
    this.#socket = socket;
  }

  /** Upper case; node's HTTP/1.1 parser already gives it so, which is checked without a copy. */
  get method(): string {
    if (this.#method === undefined) this.#method = upperCase(this.#sentMethod ?? 'GET');
    return this.#method;
  }

  /** Host or :authority, first value; empty without either. */
  get host(): string {
    if (this.#host === undefined) {
      const host = this.#headers.host ?? this.#headers[':authority'];
      this.#host = (Array.isArray(host) ? host[0] : host) ?? '';
    }
    return this.#host;
  }

  get destinationIp(): string | undefined {
    if (this.#port < 0) this.#readSocket();
    return this.#destinationIp;
  }

  get sni(): string | undefined {
    if (this.#port < 0) this.#readSocket();
    return this.#sni;
  }

  get port(): number {
    if (this.#port < 0) this.#readSocket();
    return this.#port;
  }

  /**
   * Reads now what the getters would read later, so a decision made after
   * the headers change (claim headers removed, a JWT verified) sees the
   * request as it arrived, and a socket closed meanwhile still has its
   * address. The guard calls it before it changes anything.
   */
  pin(): void {
    void this.method;
    void this.host;
    if (this.#port < 0) this.#readSocket();
  }

  #readSocket(): void {
    const socket = this.#socket;
    this.#destinationIp = unmapped(socket.localAddress);
    this.#sni = typeof socket.servername === 'string' ? socket.servername : undefined;
    this.#port = socket.localPort ?? 0;
  }

  header(lowerName: string): string | undefined {
    const v = this.#headers[lowerName];
    return Array.isArray(v) ? v.join(',') : v;
  }

  query(name: string): string | undefined {
    const start = findQueryValue(this.path, name);
    if (start < 0) return undefined;
    const raw = this.path.slice(start, queryValueEnd(this.path, start));
    try {
      return decodeURIComponent(raw.replaceAll('+', ' '));
    } catch {
      return raw;
    }
  }
}
