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
import { EXCHANGE, HOOKED, type ResponseSlot, SERVING, sizeOf } from './request-slots.js';

export type HttpRequest = IncomingMessage | Http2ServerRequest;
export type HttpResponse = ServerResponse | Http2ServerResponse;

/** A request's exchange rides on the request object itself (the gRPC server's on the call's metadata): see request-slots.ts. */
type Carrier = { [EXCHANGE]?: InboundExchange };

function exchangeOn(key: object): InboundExchange | undefined {
  return (key as Carrier)[EXCHANGE];
}

/**
 * The caller of a request the mesh admitted: peer identity and JWT claims
 * (undefined for requests the mesh did not see). Takes node's HTTP request,
 * or a gRPC handler's `call` (or its `metadata`, which is what Nest hands
 * a gRPC handler).
 */
export function meshContextOf(req: object): MeshRequestContext | undefined {
  const metadata = (req as { metadata?: object }).metadata;
  return exchangeOn(req) ?? (metadata !== undefined && metadata !== null ? exchangeOn(metadata) : undefined);
}

/** @internal The gRPC server's calls are known by their metadata, the one object every handler shape sees. */
export function rememberExchange(key: object, exchange: InboundExchange): void {
  (key as Carrier)[EXCHANGE] = exchange;
}

/** The exchange of a request, for adapters that learn the route later. */
export function exchangeOf(req: object): InboundExchange | undefined {
  return exchangeOn(req);
}

/** What an adapter runs for an admitted, authorized request; `arg` is the adapter's own (its `next`), so it needs no closure per request. */
export type ServeNext<A> = (exchange: InboundExchange, req: HttpRequest, res: HttpResponse, arg: A) => void;

/** Per adapter, not per request: hoisted once, so serving a request allocates no options. */
export interface ServeOptions<A = unknown> {
  /** Read when the response closes: the route template the framework matched, if any. */
  readonly routeOf?: ((req: HttpRequest, arg: A) => string | undefined) | undefined;
  /** Read per request: true when this server is closing on its own (HTTP/1.1 answers with `Connection: close`). */
  readonly closing?: (() => boolean) | undefined;
  /** Authorization runs later (`authorizeRequest(req)`, the Nest guard); `next` runs at once. */
  readonly deferAuthorization?: boolean | undefined;
  /** Answers a refused request the framework's way; default: write it to `res`. */
  readonly refuse?: ((err: unknown, retryAfter: string, arg: A) => void) | undefined;
}

const NO_OPTIONS: ServeOptions = Object.freeze({});

/**
 * One request's serving state, kept on its response object so the close
 * hook, the drain hook and the byte counters are shared functions rather
 * than closures made per request.
 */
class Serving<A> implements ResponseSlot {
  bytes = 0;
  endChunk: unknown = undefined;
  /** Node's own write/end, when a plain response's are wrapped to count bytes. */
  write: ((...args: unknown[]) => boolean) | undefined = undefined;
  end: ((...args: unknown[]) => unknown) | undefined = undefined;

  constructor(
    readonly ex: InboundExchange,
    readonly req: HttpRequest,
    readonly res: HttpResponse,
    readonly next: ServeNext<A>,
    readonly arg: A,
    readonly options: ServeOptions<A>,
    readonly counting: boolean,
  ) {}

  closed(): void {
    const ex = this.ex;
    const route = ex.routeOf?.(this.req, this.arg);
    if (route !== undefined) ex.setRoute(route);
    const res = this.res;
    ex.finish({ status: res.headersSent ? res.statusCode : 0, responseBytes: this.#responseBytes(), completed: res.writableFinished }, ex.refusal);
  }

  /** Istio's response size: the Content-Length when there is one, else the body bytes written. */
  #responseBytes(): number {
    if (!this.counting) return 0;
    // Node's own note of the body size: the Content-Length it sent (from
    // writeHead's object too, which getHeader cannot see, and node and
    // Fastify answer that way), or the size of a body sent in one end().
    // Reading it spares a second UTF-8 walk of the body (~215 instructions
    // per request). It is not public API, so anything but a number falls
    // back to the header and the bytes counted (HTTP/2 responses always do).
    const noted = (this.res as { _contentLength?: unknown })._contentLength;
    if (typeof noted === 'number' && noted > 0) return noted;
    const declared = Number(this.res.getHeader('content-length'));
    return Number.isFinite(declared) && declared > 0 ? declared : this.bytes + sizeOf(this.endChunk);
  }
}

type ServedResponse = HttpResponse & { [SERVING]?: Serving<unknown> };

/**
 * Runs `next` for an admitted, authorized request, inside its trace and
 * deadline context; answers everything else itself. `next` may throw: a
 * throw after an asynchronous check becomes a 500 and an uncaught
 * exception, as it would be without the mesh, never an unhandled rejection.
 */
export function serveHttp<A>(
  pipeline: InboundPipeline,
  req: HttpRequest,
  res: HttpResponse,
  next: ServeNext<A>,
  arg: A,
  options: ServeOptions<A> = NO_OPTIONS as ServeOptions<A>,
): void {
  const outer = exchangeOn(req);
  if (outer !== undefined) {
    // An app served by mesh.createServer() that also uses an adapter: the
    // server already ran the pipeline; the adapter only names the route.
    const routeOf = options.routeOf;
    if (routeOf !== undefined) outer.routeOf = (r) => routeOf(r as HttpRequest, arg);
    next(outer, req, res, arg);
    return;
  }
  const ex = pipeline.begin(callOf(req));
  (req as Carrier)[EXCHANGE] = ex;
  ex.routeOf = options.routeOf as InboundExchange['routeOf'];
  // Typed by its adapter's `A` only here: the shared functions below never look inside `arg`.
  const t = pipeline.telemetry;
  const counting = t !== undefined && (t.metrics !== undefined || t.accessLog !== undefined || hasSubscribers('requestEnd'));
  const st = new Serving(ex, req, res, next, arg, options, counting) as unknown as Serving<unknown>;
  (res as ServedResponse)[SERVING] = st;
  if ((res as { [HOOKED]?: boolean })[HOOKED] !== true) {
    // node's plain response (an application's own server): a listener, and wrapped write/end.
    if (counting) countBytes(st);
    res.on('close', onClose);
  }
  const http1 = req.httpVersionMajor === 1;
  if (ex.refusal !== undefined) {
    if (http1 && pipeline.draining) res.setHeader('connection', 'close');
    refuse(st, ex.refusal, pipeline);
    return;
  }
  if (http1) {
    if (pipeline.draining || options.closing?.() === true) res.setHeader('connection', 'close');
    else {
      ex.adapterState = st;
      ex.onDrain = onDrain;
    }
  }
  if (!ex.guarded || options.deferAuthorization === true) {
    ex.run(runNext, st);
    return;
  }
  let path: string | undefined;
  try {
    path = ex.authorizeNow();
  } catch (err) {
    refuse(st, err, pipeline);
    return;
  }
  if (path !== undefined) {
    judged(st, path);
    ex.run(runNext, st);
    return;
  }
  // A JWT to verify: wait for it.
  ex.authorize().then(
    (p) => {
      judged(st, p);
      try {
        ex.run(runNext, st);
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
    (err: unknown) => refuse(st, err, pipeline),
  );
}

function runNext(st: Serving<unknown>): void {
  st.next(st.ex, st.req, st.res, st.arg);
}

/** The handler sees the path authorization judged, so the two never disagree. */
function judged(st: Serving<unknown>, path: string): void {
  const req = st.req;
  if (path !== req.url && mountedAt(req) === '') req.url = path;
}

function refuse(st: Serving<unknown>, err: unknown, pipeline: InboundPipeline): void {
  const custom = st.options.refuse;
  if (custom !== undefined) custom(err, pipeline.retryAfter, st.arg);
  else answer(st.res, err, pipeline.retryAfter);
}

function onClose(this: ServedResponse): void {
  this[SERVING]?.closed();
}

/** A drain began while the request was in flight: its HTTP/1.1 response closes the connection. */
function onDrain(ex: InboundExchange): void {
  const res = (ex.adapterState as Serving<unknown>).res;
  if (!res.headersSent) res.setHeader('connection', 'close');
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

/**
 * Counts body bytes written, for Istio's response size (the Content-Length
 * when there is one). The counting write/end are shared functions that
 * find the request's state on the response.
 */
function countBytes(st: Serving<unknown>): void {
  const r = st.res as unknown as { write: (...a: unknown[]) => boolean; end: (...a: unknown[]) => unknown };
  st.write = r.write;
  st.end = r.end;
  r.write = countedWrite;
  r.end = countedEnd;
}

function countedWrite(this: ServedResponse, chunk: unknown, encoding: unknown, callback: unknown): boolean {
  const st = this[SERVING]!;
  st.bytes += sizeOf(chunk);
  return st.write!.call(this, chunk, encoding, callback);
}

function countedEnd(this: ServedResponse, chunk: unknown, encoding: unknown, callback: unknown): unknown {
  const st = this[SERVING]!;
  if (typeof chunk !== 'function') st.endChunk = chunk;
  return st.end!.call(this, chunk, encoding, callback);
}
