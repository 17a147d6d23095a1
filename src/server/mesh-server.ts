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
import type { Drainable } from './drain.js';
import { type ConnectionKind, replayingHead, sniffConnection } from './first-bytes.js';
import { exchangeOf, type HttpRequest, type HttpResponse, type ServeOptions, serveHttp } from './http-inbound.js';
import type { InboundGuard, RequestAuth } from './inbound-guard.js';
import { InboundPipeline } from './inbound-pipeline.js';
import type { InboundTelemetry } from './inbound-telemetry.js';
import { OpenConnections } from './open-connections.js';
import { listenOuter } from './outer-listen.js';
import { meshHttpOptions } from './request-slots.js';

/** HTTP/1.1 responses with the mesh's slot and hooks from birth (request-slots.ts). */
const MESH_RESPONSES = meshHttpOptions();

export type MtlsMode = 'STRICT' | 'PERMISSIVE' | 'DISABLE';

export type InboundRequest = IncomingMessage | Http2ServerRequest;
export type InboundResponse = ServerResponse | Http2ServerResponse;
export type InboundHandler = (req: InboundRequest, res: InboundResponse) => void;

/** The application's handler, run by serveHttp once the request is admitted (a shared function: no closure per request). */
function runApp(_ex: unknown, req: HttpRequest, res: HttpResponse, app: InboundHandler): void {
  app(req as InboundRequest, res as InboundResponse);
}
/** A handler for HTTP/1.1 only, such as an Express app: fine on a server without `http2`. */
export type Http1Handler = (req: IncomingMessage, res: ServerResponse) => void;

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
  /**
   * The handler runs before authentication and authorization, which it
   * completes itself with `authorizeRequest(req)` once it knows what the
   * request is for (an app that routes first). Off by default: a refused
   * request never reaches the handler.
   */
  deferAuthorization?: boolean;
  /**
   * The inbound pipeline (admission, spans, the inherited deadline,
   * authentication, authorization, metrics, access log); the mesh passes
   * its own. Without one, a pipeline is made from `telemetry` and `guard`.
   */
  pipeline?: InboundPipeline;
  /** Spans, the inherited deadline, metrics and access log for each request (when no `pipeline` is given). */
  telemetry?: InboundTelemetry;
  /** Authentication and authorization for each request (when no `pipeline` is given); read per request. */
  guard?: () => InboundGuard | undefined;
  /** Told about handshake failures (bad client certificate, garbage bytes); never thrown. */
  onTlsError?: (err: Error, socket: Socket) => void;
}

/** What `mesh.createServer()` takes: the mesh supplies the rest (identity, mTLS modes, pipeline). */
export type CreateServerOptions = Pick<MeshServerOptions, 'http2' | 'firstByteTimeoutMs' | 'deferAuthorization'>;

type Inner = HttpServer | HttpsServer | Http2Server | Http2SecureServer;

export class MeshServer implements Drainable {
  readonly #outer: NetServer;
  readonly #options: MeshServerOptions;
  readonly #plain: HttpServer;
  readonly #h2c: Http2Server | undefined;
  readonly #secure: HttpsServer | Http2SecureServer | undefined;
  readonly #connections = new OpenConnections();
  readonly #unsubscribe: (() => void) | undefined;
  #closing = false;

  constructor(userHandler: InboundHandler | Http1Handler, options: MeshServerOptions) {
    this.#options = options;
    const pipeline = options.pipeline ?? new InboundPipeline({ telemetry: options.telemetry, guard: options.guard });
    const closing: ServeOptions<InboundHandler> = { closing: () => this.#closing, deferAuthorization: options.deferAuthorization === true };
    const app = userHandler as InboundHandler;
    const handler: InboundHandler = (req, res) => serveHttp(pipeline, req, res, runApp, app, closing);
    const modes = [options.mode, ...Object.values(options.portLevelMtls ?? {})];
    const needsTls = modes.some((m) => m !== 'DISABLE');
    if (needsTls && options.tls === undefined) {
      throw new MeshError(
        'MESH_INVALID_ARGUMENT',
        `mTLS mode ${modes.find((m) => m !== 'DISABLE')} needs a workload certificate; configure one (docs/security.md) or use mode DISABLE`,
      );
    }
    this.#plain = createHttpServer(MESH_RESPONSES, handler as (req: IncomingMessage, res: ServerResponse) => void);
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
        : createHttpsServer({ ...tlsOptions, ...MESH_RESPONSES }, handler as (req: IncomingMessage, res: ServerResponse) => void);
      const secure = this.#secure;
      const source = options.tls;
      this.#unsubscribe = source.subscribe(() => secure.setSecureContext(source.current()));
      secure.on('tlsClientError', (err, socket) => {
        options.onTlsError?.(err, socket as unknown as Socket);
        socket.destroy();
      });
    }
    // noDelay as node's own HTTP server sets it: connections handed over
    // with emit('connection') skip that server's accept, so without it a
    // response written in two pieces waited on Nagle and the peer's delayed ACK.
    this.#outer = createNetServer({ noDelay: true }, (socket) => this.#accept(socket));
  }

  #accept(socket: Socket): void {
    this.#connections.add(socket);
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

  listen(port = 0, host?: string): Promise<AddressInfo> {
    return listenOuter(this.#outer, this.#secure, this.#options.tls, port, host);
  }

  address(): AddressInfo | undefined {
    return (this.#outer.address() as AddressInfo | null) ?? undefined;
  }

  /**
   * Stop accepting, let requests in flight finish, then close what is left
   * after `drainMs` (default 10 s).
   */
  async close(drainMs = 10_000): Promise<void> {
    const stopped = this.#stop();
    this.closeIdle();
    const timer = setTimeout(() => this.closeAll(), drainMs);
    timer.unref();
    await stopped;
    clearTimeout(timer);
  }

  /** Stop accepting connections (responses from now on carry `Connection: close`); resolves when every connection is gone. */
  #stop(): Promise<void> {
    this.#closing = true;
    this.#unsubscribe?.();
    if (!this.#outer.listening) {
      // Already closed (or never listening): done when the connections still open are.
      return this.#connections.whenNone();
    }
    return new Promise<void>((resolve) => this.#outer.close(() => resolve()));
  }

  /** Close keep-alive connections with no request in flight (Drainable, for the mesh's drain). */
  closeIdle(): void {
    for (const inner of this.#inners()) if ('closeIdleConnections' in inner) inner.closeIdleConnections();
  }

  /** Close every connection now. */
  closeAll(): void {
    this.#connections.destroyAll();
  }

  #inners(): Inner[] {
    return [this.#plain, this.#h2c, this.#secure].filter((s): s is Inner => s !== undefined);
  }
}

/** The JWT identity of an admitted request (undefined when no policy checked one). */
export function requestAuthOf(req: InboundRequest): RequestAuth | undefined {
  return exchangeOf(req)?.auth;
}
