/**
 * Outbound TLS for one destination: what the endpoint pools dial with.
 *
 * `mutual` is Istio's ISTIO_MUTUAL: the workload certificate is presented,
 * and the server is verified by chain to the mesh's trust bundle and by its
 * SPIFFE ID, never by hostname (endpoints are pod IPs; the logical name is
 * not in their certificates). `simple` is ordinary server-verified TLS.
 * The application still speaks plain `http://`; the mesh upgrades the
 * connection, as a sidecar would.
 *
 * Rotation swaps the secure context for new connections only: a connection
 * already open keeps the context it was made with until it closes.
 */
import { createSecureContext, type SecureContext, type TLSSocket } from 'node:tls';
import { buildConnector } from 'undici';
import { MeshError } from '../../errors.js';
import { type DialOptions, dialOptions } from '../../net/dial-options.js';
import { spiffeIdOf } from './peer-certificate.js';

export type OutboundTlsMode = 'mutual' | 'simple' | 'disable';

/** The workload's key, chain and trust bundle; rebuilt into a SecureContext once per rotation. */
export interface ClientTlsSource {
  current(): { readonly key: string; readonly cert: string; readonly ca: string };
  subscribe(onChange: () => void): () => void;
}

export interface TransportSecurityOptions {
  readonly mode: 'mutual' | 'simple';
  /** SNI to send; defaults to none for `mutual` and to the logical host for `simple`. */
  readonly sni?: string;
  /**
   * `mutual`: the SPIFFE IDs the server may present (Istio's subjectAltNames);
   * any ID in `trustDomain` when empty.
   */
  readonly identities?: readonly string[];
  readonly trustDomain?: string;
  /** `mutual`: the workload certificate source. */
  readonly workload?: ClientTlsSource;
  /** `simple`: CA bundle PEM to trust instead of Node's defaults. */
  readonly ca?: string;
}

export class TransportSecurity {
  readonly mode: 'mutual' | 'simple';
  readonly #options: TransportSecurityOptions;
  readonly #identities: ReadonlySet<string>;
  readonly #domainPrefix: string | undefined;
  #context: SecureContext | undefined;
  #connectors = new Map<string, { context: SecureContext | undefined; connect: buildConnector.connector }>();
  readonly #unsubscribe: (() => void) | undefined;

  constructor(options: TransportSecurityOptions) {
    this.mode = options.mode;
    this.#options = options;
    this.#identities = new Set(options.identities ?? []);
    this.#domainPrefix = options.trustDomain === undefined ? undefined : `spiffe://${options.trustDomain}/`;
    if (options.mode === 'mutual') {
      if (options.workload === undefined) {
        throw new MeshError('MESH_INVALID_ARGUMENT', 'TLS mode "mutual" needs a workload certificate (mesh.security.certificates)');
      }
      this.#unsubscribe = options.workload.subscribe(() => {
        this.#context = undefined;
      });
    }
  }

  #secureContext(): SecureContext | undefined {
    if (this.#context !== undefined) return this.#context;
    if (this.mode === 'mutual') this.#context = createSecureContext(this.#options.workload!.current());
    else if (this.#options.ca !== undefined) this.#context = createSecureContext({ ca: this.#options.ca });
    return this.#context;
  }

  /**
   * A connector that dials `address:port` with TLS and checks the peer's
   * identity before undici sends a byte on the connection.
   */
  connector(address: string, port: number, logicalHost: string, dial: DialOptions): buildConnector.connector {
    const key = `${dial.timeoutMs}|${dial.keepAliveProbeDelay}`;
    return (opts, callback) => {
      const context = this.#secureContext();
      let entry = this.#connectors.get(key);
      if (entry === undefined || entry.context !== context) {
        entry = { context, connect: this.#build(context, logicalHost, dial) };
        this.#connectors.set(key, entry);
      }
      entry.connect({ ...opts, protocol: 'https:', hostname: address, host: address, port: String(port) }, (err, socket) => {
        if (err !== null) return callback(err, null);
        const problem = this.#verify(socket as TLSSocket, address, port);
        if (problem !== undefined) {
          socket.destroy();
          return callback(problem, null);
        }
        callback(null, socket);
      });
    };
  }

  #build(context: SecureContext | undefined, logicalHost: string, dial: DialOptions): buildConnector.connector {
    const sni = this.#options.sni ?? (this.mode === 'simple' ? logicalHost : undefined);
    return buildConnector({
      ...dialOptions(dial),
      ...(context !== undefined ? { secureContext: context } : {}),
      ...(sni !== undefined ? { servername: sni } : {}),
      // Undici's session cache is keyed by servername; with no SNI (mutual) it would
      // share one key across endpoints, so leave it off there.
      maxCachedSessions: sni === undefined ? 0 : 100,
      ALPNProtocols: ['http/1.1'],
      ...(this.mode === 'mutual' ? { checkServerIdentity: () => undefined } : {}),
    });
  }

  #verify(socket: TLSSocket, address: string, port: number): MeshError | undefined {
    if (this.mode !== 'mutual') return undefined;
    return this.checkPeer(socket.getPeerX509Certificate()?.subjectAltName, `${address}:${port}`);
  }

  /**
   * `mutual`: whether a server certificate's subjectAltName names an
   * identity this destination accepts; the typed error says who was
   * expected and who answered. The gRPC channel's TLS check calls it too.
   */
  checkPeer(subjectAltName: string | undefined, endpoint: string): MeshError | undefined {
    const presented = spiffeIdOf(subjectAltName);
    const ok =
      presented !== undefined &&
      (this.#identities.size > 0
        ? this.#identities.has(presented)
        : this.#domainPrefix === undefined || presented.startsWith(this.#domainPrefix));
    if (ok) return undefined;
    const expected = this.#identities.size > 0 ? [...this.#identities].join(', ') : `any ID under ${this.#domainPrefix}`;
    return new MeshError('MESH_PEER_VERIFICATION_FAILED', `endpoint ${endpoint} presented ${presented ?? 'no SPIFFE ID'}; expected ${expected}`, {
      details: { endpoint, presented, expected },
    });
  }

  /** The workload certificate source (`mutual`) and the CA bundle to trust (`simple`), for the gRPC channel's credentials. */
  get workload(): ClientTlsSource | undefined {
    return this.#options.workload;
  }
  get ca(): string | undefined {
    return this.#options.ca;
  }
  get sni(): string | undefined {
    return this.#options.sni;
  }

  close(): void {
    this.#unsubscribe?.();
  }
}
