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

function unmapped(address: string | undefined): string | undefined {
  return address?.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

export class InboundView implements AuthzRequest, AuthRequest {
  readonly principal: string | undefined;
  requestPrincipal: string | undefined;
  claims: Readonly<Record<string, unknown>> | undefined;
  readonly sourceIp: string;
  readonly destinationIp: string | undefined;
  readonly sni: string | undefined;
  readonly method: string;
  readonly path: string;
  readonly host: string;
  readonly port: number;
  readonly #headers: NodeHeaders;

  /** `path` must already be normalized (normalizePath): authorization matches it as it is. */
  constructor(method: string | undefined, path: string, headers: NodeHeaders, peer: Peer, socket: LocalSide) {
    this.principal = peer.principal;
    this.sourceIp = peer.address;
    this.destinationIp = unmapped(socket.localAddress);
    this.sni = typeof socket.servername === 'string' ? socket.servername : undefined;
    this.method = (method ?? 'GET').toUpperCase();
    this.path = path;
    this.#headers = headers;
    const host = headers.host ?? headers[':authority'];
    this.host = (Array.isArray(host) ? host[0] : host) ?? '';
    this.port = socket.localPort ?? 0;
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
