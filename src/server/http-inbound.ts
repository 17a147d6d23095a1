/**
 * The inbound pipeline over node's HTTP request and response objects: the
 * one piece the node server, Express, Fastify and Nest adapters all use,
 * since each of them hands its handlers node's own `req`/`res` underneath.
 * It starts the exchange, answers refused requests itself (503 with
 * Retry-After, 429, 401, 403), runs the rest of the request in the
 * exchange's context, and records the request when its response closes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { hasSubscribers } from '../telemetry/events.js';
import type { InboundCall, InboundExchange, MeshRequestContext } from './inbound-exchange.js';
import { refusal } from './inbound-guard.js';
import type { InboundPipeline } from './inbound-pipeline.js';
import type { LocalSide } from './inbound-view.js';
import { peerOf } from './peer.js';

export type HttpRequest = IncomingMessage | Http2ServerRequest;
export type HttpResponse = ServerResponse | Http2ServerResponse;

const exchanges = new WeakMap<object, InboundExchange>();

/**
 * The caller of a request the mesh admitted: peer identity and JWT claims
 * (undefined for requests the mesh did not see). Takes node's HTTP request,
 * or a gRPC handler's `call` (or its `metadata`, which is what Nest hands
 * a gRPC handler).
 */
export function meshContextOf(req: object): MeshRequestContext | undefined {
  return exchanges.get(req) ?? exchanges.get((req as { metadata?: object }).metadata ?? req);
}

/** @internal The gRPC server's calls are known by their metadata, the one object every handler shape sees. */
export function rememberExchange(key: object, exchange: InboundExchange): void {
  exchanges.set(key, exchange);
}

/** The exchange of a request, for adapters that learn the route later. */
export function exchangeOf(req: object): InboundExchange | undefined {
  return exchanges.get(req);
}

export interface ServeOptions {
  /** Read when the response closes: the route template the framework matched, if any. */
  readonly routeOf?: (() => string | undefined) | undefined;
  /** Read per request: true when this server is closing on its own (HTTP/1.1 answers with `Connection: close`). */
  readonly closing?: (() => boolean) | undefined;
  /** The adapter authorizes later itself (`exchange.authorize()`, a Nest guard); `next` runs at once. */
  readonly deferAuthorization?: boolean | undefined;
  /** Answers a refused request the framework's way; default: write it to `res`. */
  readonly refuse?: ((err: unknown, retryAfter: string) => void) | undefined;
}

/**
 * Runs `next` for an admitted, authorized request, inside its trace and
 * deadline context; answers everything else itself. `next` may throw: a
 * throw after an asynchronous check becomes a 500 and an uncaught
 * exception, as it would be without the mesh, never an unhandled rejection.
 */
export function serveHttp(
  pipeline: InboundPipeline,
  req: HttpRequest,
  res: HttpResponse,
  next: (exchange: InboundExchange) => void,
  options: ServeOptions = {},
): void {
  const outer = exchanges.get(req);
  if (outer !== undefined) {
    // An app served by mesh.createServer() that also uses an adapter: the
    // server already ran the pipeline; the adapter only names the route.
    if (options.routeOf !== undefined) outer.routeOf = options.routeOf;
    next(outer);
    return;
  }
  const ex = pipeline.begin(callOf(req));
  exchanges.set(req, ex);
  ex.routeOf = options.routeOf;
  const t = pipeline.telemetry;
  const counted =
    t !== undefined && (t.metrics !== undefined || t.accessLog !== undefined || hasSubscribers('requestEnd')) ? countResponseBytes(res) : undefined;
  const http1 = req.httpVersionMajor === 1;
  let failed: Parameters<InboundExchange['finish']>[1];
  res.once('close', () => {
    const route = ex.routeOf?.();
    if (route !== undefined) ex.setRoute(route);
    ex.finish({ status: res.headersSent ? res.statusCode : 0, responseBytes: counted?.() ?? 0, completed: res.writableFinished }, failed);
  });
  if (ex.refusal !== undefined) {
    failed = ex.refusal;
    if (http1 && pipeline.draining) res.setHeader('connection', 'close');
    (options.refuse ?? ((err, ra) => answer(res, err, ra)))(ex.refusal, pipeline.retryAfter);
    return;
  }
  if (http1) {
    if (pipeline.draining || options.closing?.() === true) res.setHeader('connection', 'close');
    else
      ex.onDrain = () => {
        if (!res.headersSent) res.setHeader('connection', 'close');
      };
  }
  if (!ex.guarded || options.deferAuthorization === true) {
    ex.run(() => next(ex));
    return;
  }
  ex.authorize().then(
    (path) => {
      // The handler sees the path authorization judged, so the two never disagree.
      if (path !== req.url && mountedAt(req) === '') req.url = path;
      try {
        ex.run(() => next(ex));
      } catch (err) {
        if (!res.headersSent) {
          res.statusCode = 500;
          res.end();
        }
        queueMicrotask(() => {
          throw err;
        });
      }
    },
    (err: unknown) => (options.refuse ?? ((e, ra) => answer(res, e, ra)))(err, pipeline.retryAfter),
  );
}

/** A refused request's reply: the code's status and a short reason (never a token); Retry-After when shed. */
export function answer(res: HttpResponse, err: unknown, retryAfter: string): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const r = refusal(err);
  res.statusCode = r.status;
  if (r.status === 503 || r.status === 429) res.setHeader('retry-after', retryAfter);
  res.setHeader('content-type', 'text/plain; charset=utf-8');
  res.end(r.body);
}

/** The part of the path a router mount took off req.url ('' at the root). */
function mountedAt(req: HttpRequest): string {
  const original = (req as { originalUrl?: string }).originalUrl;
  return original === undefined || original === req.url ? '' : original;
}

function callOf(req: HttpRequest): InboundCall {
  const headers = req.headers;
  const host = headers.host ?? headers[':authority'];
  return {
    protocol: 'http',
    method: req.method ?? 'GET',
    // Express strips a mount path from req.url inside mounted middleware (Nest mounts its middleware so); policies judge the whole path.
    path: (req as { originalUrl?: string }).originalUrl ?? req.url ?? '/',
    authority: (Array.isArray(host) ? host[0] : host) ?? '',
    headers,
    peer: peerOf(req),
    local: req.socket as LocalSide,
    requestBytes: Number(headers['content-length'] ?? 0) || 0,
  };
}

/** Counts body bytes written, for Istio's response size (the Content-Length when there is one). */
function countResponseBytes(res: HttpResponse): () => number {
  let bytes = 0;
  const r = res as unknown as { write: (...a: unknown[]) => boolean; end: (...a: unknown[]) => unknown };
  const write = r.write;
  const end = r.end;
  r.write = function (this: unknown, chunk: unknown, ...rest: unknown[]) {
    bytes += sizeOf(chunk);
    return write.call(this, chunk, ...rest);
  };
  r.end = function (this: unknown, chunk: unknown, ...rest: unknown[]) {
    if (typeof chunk !== 'function') bytes += sizeOf(chunk);
    return end.call(this, chunk, ...rest);
  };
  return () => {
    const declared = Number(res.getHeader('content-length'));
    return Number.isFinite(declared) && declared > 0 ? declared : bytes;
  };
}

function sizeOf(chunk: unknown): number {
  if (typeof chunk === 'string') return Buffer.byteLength(chunk);
  if (chunk instanceof Uint8Array) return chunk.byteLength;
  return 0;
}
