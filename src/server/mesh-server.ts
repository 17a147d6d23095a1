/**
 * The inbound server: one listening port that speaks mTLS, plaintext or
 * both (Istio's STRICT / PERMISSIVE / DISABLE), HTTP/1.1 and, when asked,
 * HTTP/2. The listening socket belongs to a plain net.Server; each accepted
 * connection is handed to the HTTP(S) server that fits its mode and first
 * bytes. Those servers never listen themselves.
 *
 * Certificates rotate under it: a new secure context is installed for new
 * handshakes, and connections already open keep theirs until they close.
 */
import { createServer as createHttpServer, type Server as HttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import {
  createSecureServer as createH2SecureServer,
  createServer as createH2Server,
  type Http2SecureServer,
  type Http2Server,
  type Http2ServerRequest,
  type Http2ServerResponse,
} from 'node:http2';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { type AddressInfo, createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import type { SecureContextOptions } from 'node:tls';
import { MeshError } from '../errors.js';
import { normalizePath } from '../net/normalize-path.js';
import { type ConnectionKind, replayingHead, sniffConnection } from './first-bytes.js';
import { type InboundGuard, type RequestAuth, refusal } from './inbound-guard.js';
import { type InboundTelemetry, observed } from './inbound-telemetry.js';
import { InboundView, type LocalSide } from './inbound-view.js';
import { peerOf } from './peer.js';

export type MtlsMode = 'STRICT' | 'PERMISSIVE' | 'DISABLE';

export type InboundRequest = IncomingMessage | Http2ServerRequest;
export type InboundResponse = ServerResponse | Http2ServerResponse;
export type InboundHandler = (req: InboundRequest, res: InboundResponse) => void;

/** Where the server's certificate, key and trust bundle come from; rotates under the server. */
export interface ServerTlsSource {
  /** Key, certificate chain and CA bundle for new handshakes; may throw until ready() resolves. */
  current(): SecureContextOptions;
  /** Resolves once current() has material. */
  ready(): Promise<unknown>;
  /** Called after every rotation; returns the unsubscribe function. */
  subscribe(onChange: () => void): () => void;
}

export interface MeshServerOptions {
  /** Default mode for every port (Istio's PeerAuthentication `mtls.mode`). */
  mode: MtlsMode;
  /** Per listening port overrides (Istio's `portLevelMtls`). */
  portLevelMtls?: Readonly<Record<number, MtlsMode>>;
  /**
   * The modes as of now, read per connection, so a config update applies
   * to the next connection; overrides `mode` and `portLevelMtls`.
   */
  modes?: () => { readonly mode: MtlsMode; readonly portLevelMtls: Readonly<Record<number, MtlsMode>> };
  /** Serve HTTP/2 too: ALPN `h2` over TLS, prior knowledge over plaintext. */
  http2?: boolean;
  /** Required unless every port is DISABLE. */
  tls?: ServerTlsSource;
  /** How long a new connection may stay silent before it is closed (default 10 s). */
  firstByteTimeoutMs?: number;
  /** Spans, the inherited deadline, metrics and access log for each request. */
  telemetry?: InboundTelemetry;
  /** Authentication and authorization for each request; read per request, so config updates apply at once. */
  guard?: () => InboundGuard | undefined;
  /** Told about handshake failures (bad client certificate, garbage bytes); never thrown. */
  onTlsError?: (err: Error, socket: Socket) => void;
}

type Inner = HttpServer | HttpsServer | Http2Server | Http2SecureServer;

export class MeshServer {
  readonly #outer: NetServer;
  readonly #options: MeshServerOptions;
  readonly #plain: HttpServer;
  readonly #h2c: Http2Server | undefined;
  readonly #secure: HttpsServer | Http2SecureServer | undefined;
  readonly #sockets = new Set<Socket>();
  readonly #unsubscribe: (() => void) | undefined;

  constructor(userHandler: InboundHandler, options: MeshServerOptions) {
    this.#options = options;
    const admitted = options.guard === undefined ? userHandler : guarded(userHandler, options.guard);
    // Telemetry outermost, so refused requests are traced and counted too.
    const handler = options.telemetry === undefined ? admitted : observed(admitted, options.telemetry);
    const modes = [options.mode, ...Object.values(options.portLevelMtls ?? {})];
    const needsTls = modes.some((m) => m !== 'DISABLE');
    if (needsTls && options.tls === undefined) {
      throw new MeshError(
        'MESH_INVALID_ARGUMENT',
        `mTLS mode ${modes.find((m) => m !== 'DISABLE')} needs a workload certificate; configure one (docs/security.md) or use mode DISABLE`,
      );
    }
    this.#plain = createHttpServer(handler as (req: IncomingMessage, res: ServerResponse) => void);
    this.#h2c = options.http2 ? createH2Server(handler) : undefined;
    // With a certificate the TLS side always exists, so a config update may turn mTLS on later.
    if (options.tls !== undefined) {
      // The key and certificate are installed by listen(), once the source is ready.
      const tlsOptions = {
        requestCert: true,
        rejectUnauthorized: true,
        minVersion: 'TLSv1.2' as const,
      };
      this.#secure = options.http2
        ? createH2SecureServer({ ...tlsOptions, allowHTTP1: true }, handler)
        : createHttpsServer(tlsOptions, handler as (req: IncomingMessage, res: ServerResponse) => void);
      const secure = this.#secure;
      const source = options.tls;
      this.#unsubscribe = source.subscribe(() => secure.setSecureContext(source.current()));
      secure.on('tlsClientError', (err, socket) => {
        options.onTlsError?.(err, socket as unknown as Socket);
        socket.destroy();
      });
    }
    this.#outer = createNetServer((socket) => this.#accept(socket));
  }

  #accept(socket: Socket): void {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
    const mode = this.modeFor(socket.localPort ?? 0);
    if (mode === 'STRICT') {
      this.#hand('tls', socket);
      return;
    }
    if (mode === 'DISABLE' && this.#h2c === undefined) {
      this.#hand('http1', socket);
      return;
    }
    sniffConnection(socket, this.#options.firstByteTimeoutMs ?? 10_000, (kind, s, head) => {
      // DISABLE never terminates TLS: a TLS client gets the plaintext server's 400.
      this.#hand(mode === 'DISABLE' && kind === 'tls' ? 'http1' : kind, s, head);
    });
  }

  #hand(kind: ConnectionKind, socket: Socket, head?: Buffer): void {
    if (kind === 'h2c' && this.#h2c !== undefined) {
      this.#h2c.emit('connection', replayingHead(socket, head ?? Buffer.alloc(0)));
      return;
    }
    if (head !== undefined) socket.unshift(head);
    (kind === 'tls' ? this.#secure! : this.#plain).emit('connection', socket);
    if (kind !== 'tls') socket.resume();
  }

  /** The mode that applies to connections accepted on `port`. */
  modeFor(port: number): MtlsMode {
    const live = this.#options.modes?.();
    if (live !== undefined) {
      const mode = live.portLevelMtls[port] ?? live.mode;
      // Without a certificate only plaintext is possible (the config check refuses the rest).
      return this.#secure === undefined ? 'DISABLE' : mode;
    }
    return this.#options.portLevelMtls?.[port] ?? this.#options.mode;
  }

  async listen(port = 0, host?: string): Promise<AddressInfo> {
    const tls = this.#options.tls;
    if (this.#secure !== undefined && tls !== undefined) {
      await tls.ready();
      this.#secure.setSecureContext(tls.current());
    }
    return new Promise((resolve, reject) => {
      this.#outer.once('error', reject);
      this.#outer.listen(port, host, () => {
        this.#outer.off('error', reject);
        resolve(this.#outer.address() as AddressInfo);
      });
    });
  }

  address(): AddressInfo | undefined {
    return (this.#outer.address() as AddressInfo | null) ?? undefined;
  }

  /**
   * Stop accepting, let requests in flight finish, then close what is left
   * after `drainMs` (default 10 s).
   */
  async close(drainMs = 10_000): Promise<void> {
    this.#unsubscribe?.();
    const stopped = new Promise<void>((resolve) => this.#outer.close(() => resolve()));
    for (const inner of this.#inners()) if ('closeIdleConnections' in inner) inner.closeIdleConnections();
    const timer = setTimeout(() => {
      for (const s of this.#sockets) s.destroy();
    }, drainMs);
    timer.unref();
    await stopped;
    clearTimeout(timer);
  }

  #inners(): Inner[] {
    return [this.#plain, this.#h2c, this.#secure].filter((s): s is Inner => s !== undefined);
  }
}

const requestAuths = new WeakMap<object, RequestAuth>();

/** The JWT identity of an admitted request (undefined when no policy checked one). */
export function requestAuthOf(req: InboundRequest): RequestAuth | undefined {
  return requestAuths.get(req);
}

function guarded(handler: InboundHandler, guardOf: () => InboundGuard | undefined): InboundHandler {
  return (req, res) => {
    const guard = guardOf();
    if (guard === undefined || !guard.active) {
      handler(req, res);
      return;
    }
    const path = normalizePath(req.url ?? '/');
    if (path === undefined) {
      res.statusCode = 400;
      res.end('malformed request path\n');
      return;
    }
    // The handler sees the path authorization judged, so the two never disagree.
    if (path !== req.url) req.url = path;
    const view = new InboundView(req.method, path, req.headers, peerOf(req), req.socket as LocalSide);
    guard.admit(view, req.headers).then(
      (auth) => {
        requestAuths.set(req, auth);
        try {
          handler(req, res);
        } catch (err) {
          // A throwing handler must not become an unhandled rejection here.
          if (!res.headersSent) {
            res.statusCode = 500;
            res.end();
          }
          queueMicrotask(() => {
            throw err;
          });
        }
      },
      (err: unknown) => {
        const r = refusal(err);
        res.statusCode = r.status;
        res.setHeader('content-type', 'text/plain; charset=utf-8');
        res.end(r.body);
      },
    );
  };
}
