/**
 * The HTTP adapter: undici's dispatch contract on one side, the neutral
 * call (call.ts) on the other. To the caller's handler it is the one
 * controller of the request, however many attempts run underneath: pause,
 * resume and abort go to whichever attempt the call committed to.
 */
import type { Dispatcher } from 'undici';
import { isMeshError } from '../errors.js';
import { headerString, headerValue } from '../net/headers.js';
import { DEADLINE_HEADER } from '../resilience/deadline-context.js';
import { mutateResponseHeaders, rewriteRequestHeaders } from '../routing/header-mutation.js';
import { OutboundCall } from './call.js';
import type { CallPolicy, RouteTarget } from './call-policy.js';
import type { Attempt, CallRequest, LocalReply } from './call-types.js';
import { HttpAttempt } from './http-attempt.js';
import { isReplayable, prepareBody } from './request-body.js';
import type { CallEnv } from './stack.js';
import type { Upstream } from './upstream.js';

type Handler = Dispatcher.DispatchHandler;
type Controller = Dispatcher.DispatchController;
type Headers = Record<string, string | string[] | undefined>;

const EMPTY_HEADERS: Headers = Object.freeze({}) as Headers;

/** The caller's handler once it has its answer: any late callback goes nowhere. */
const ANSWERED: Handler = Object.freeze({});

export class HttpRequestView implements CallRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: unknown;
  replayBlocker: string | undefined;
  readonly #origin: string;

  constructor(origin: string, opts: Dispatcher.DispatchOptions) {
    this.#origin = origin;
    this.method = upperMethod(opts.method ?? 'GET');
    this.path = opts.path;
    this.headers = opts.headers;
    this.replayBlocker = opts.upgrade ? 'upgrade' : undefined;
  }

  header(lowerName: string): string | undefined {
    return headerString(this.headers, lowerName);
  }

  get protocol(): 'http' {
    return 'http';
  }

  /** Read only by redirects, mirrors and recorded spans, so no call pays for it up front. */
  get authority(): string {
    return this.header('host') ?? originParts(this.#origin).authority;
  }

  get scheme(): string {
    return originParts(this.#origin).scheme;
  }

  /** Read only when a retry or hedge is being decided, so most calls never scan for it. */
  get hasIdempotencyKey(): boolean {
    return headerValue(this.headers, 'idempotency-key') !== undefined;
  }
}

/**
 * An origin's scheme and authority, remembered for the last origin asked
 * about: a traced call reads both, and calls to one destination share one
 * origin string.
 */
let lastOrigin = '';
let lastParts = { scheme: '', authority: '' };
function originParts(origin: string): { scheme: string; authority: string } {
  if (origin !== lastOrigin) {
    lastParts = { scheme: origin.slice(0, origin.indexOf(':')), authority: origin.slice(origin.indexOf('//') + 2) };
    lastOrigin = origin;
  }
  return lastParts;
}

export class HttpCall extends OutboundCall implements Controller {
  readonly request: HttpRequestView;
  readonly #origin: string;
  readonly #opts: Dispatcher.DispatchOptions;
  #inner: Handler;
  #body: unknown;
  #committed: HttpAttempt | undefined;
  #delivered = false;
  #aborted = false;
  #paused = false;
  #reason: Error | null = null;
  /** fetch reads the raw header list, so a route's response-header changes must show there too. */
  #mutatedRawHeaders: Buffer[] | undefined;
  // Telemetry: what the caller got (counted only when an observer listens).
  #status = 0;
  #responseBytes = 0;
  #answeredBy: Attempt | undefined;
  #reported = false;

  constructor(
    origin: string,
    opts: Dispatcher.DispatchOptions,
    inner: Handler,
    request: HttpRequestView,
    policy: CallPolicy,
    env: CallEnv,
  ) {
    super(policy, env);
    this.#origin = origin;
    this.#opts = opts;
    this.#inner = inner;
    this.#body = opts.body;
    this.request = request;
  }

  /** Hand the caller its controller, then run the call (after buffering a streamed body if it may be replayed). */
  start(): void {
    // Given up front, so the caller can abort during backoff or a fault delay.
    this.#inner.onRequestStart?.(this, undefined);
    if (this.#aborted) return;
    const p = this.policy;
    const mayReplay = p.retry.maxRetries > 0 || p.hedge !== undefined || p.mirrors.length > 0;
    if (!mayReplay || isReplayable(this.#body) || this.request.replayBlocker !== undefined) {
      if (!isReplayable(this.#body)) this.request.replayBlocker ??= 'body-not-replayable';
      this.run();
      return;
    }
    prepareBody(this.#body, p.replayCap).then(
      (prepared) => {
        this.#body = prepared.body;
        this.request.replayBlocker = prepared.replayBlocker;
        if (!this.#aborted) this.run();
      },
      (err: Error) => this.fail(err),
    );
  }

  // --- Controller, as the caller sees it --------------------------------

  get aborted(): boolean {
    return this.#aborted;
  }
  get paused(): boolean {
    return this.#paused;
  }
  get reason(): Error | null {
    return this.#reason;
  }
  get rawHeaders(): Controller['rawHeaders'] {
    return this.#mutatedRawHeaders ?? this.#committed?.controller?.rawHeaders;
  }
  get rawTrailers(): Controller['rawTrailers'] {
    return this.#committed?.controller?.rawTrailers;
  }
  abort(reason: Error): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.cancel(reason);
    // A call that never started (still buffering its body) has nobody else to tell the caller.
    if (!this.#delivered) this.fail(reason);
  }
  pause(): void {
    this.#paused = true;
    this.#committed?.controller?.pause();
  }
  resume(): void {
    this.#paused = false;
    this.#committed?.controller?.resume();
  }

  // --- CallTransport ------------------------------------------------------

  protected createAttempt(
    upstream: Upstream,
    target: RouteTarget,
    n: number,
    hedge: boolean,
    path: string,
    remainingMs: number | undefined,
    now: number,
    isRetry: boolean,
  ): HttpAttempt {
    return new HttpAttempt(this, upstream, target, n, hedge, path, remainingMs, now, isRetry);
  }

  startAttempt(attempt: Attempt): void {
    const handler = attempt as HttpAttempt;
    const body = this.#body;
    // A single-use stream goes to the first attempt only; later ones could not resend it.
    if (!isReplayable(body)) this.#body = null;
    attempt.upstream.pool(this.#origin).dispatch(this.#attemptOptions(attempt, body), handler);
  }

  cancelAttempt(attempt: Attempt, reason: Error): void {
    (attempt as HttpAttempt).cancel(reason);
  }

  failCommitted(attempt: Attempt, err: Error): void {
    (attempt as HttpAttempt).failCommitted(err);
  }

  fail(err: Error): void {
    if (this.#delivered) return;
    this.#delivered = true;
    // What a sidecar would have answered with (503 for UO, 504 for UT), so
    // dashboards that count 5xx see it; 0 when the caller itself went away.
    if (isMeshError(err) && err.code !== 'MESH_ABORTED') this.#status = err.httpStatus;
    this.#report(err, isMeshError(err) ? err.responseFlag : '-');
    // undici expects handler callbacks after dispatch() has returned.
    queueMicrotask(() => {
      this.#inner.onResponseError?.(this, err);
      this.#forget();
    });
  }

  reply(reply: LocalReply): void {
    if (this.#delivered) return;
    this.#delivered = true;
    this.#status = reply.status;
    this.#responseBytes = reply.body === undefined ? 0 : Buffer.byteLength(reply.body);
    this.#report(undefined, reply.flag);
    queueMicrotask(() => {
      const body = Buffer.from(reply.body ?? '');
      const headers: Record<string, string> = { ...reply.headers, 'content-length': String(body.length) };
      if (reply.body !== undefined) headers['content-type'] ??= 'text/plain';
      this.#inner.onResponseStart?.(this, reply.status, headers, '');
      if (!this.#aborted && body.length > 0) this.#inner.onResponseData?.(this, body);
      if (!this.#aborted) this.#inner.onResponseEnd?.(this, {});
      this.#forget();
    });
  }

  /** The request as the route transformed it (path, headers, authority), to the mirror's cluster. */
  mirror(target: RouteTarget): void {
    if (!isReplayable(this.#body)) return;
    const cluster = target.cluster;
    if (!cluster.initialized) {
      // Start-up only: the mirror waits for its discovery like the primary does.
      cluster.whenInitialized().then(() => this.mirror(target));
      return;
    }
    const upstream = cluster.picker(target.subset)?.pick(cluster.hashOf(this.request));
    if (upstream === undefined) return;
    const route = this.policy.route;
    const path = route.rewritePath?.(this.request.path) ?? this.request.path;
    const host = shadowHost(route.rewriteAuthority ?? this.request.authority);
    const headers = rewriteRequestHeaders(this.#opts.headers, target.requestHeaders, ['host', host]);
    upstream.inFlight++;
    const done = () => {
      upstream.inFlight--;
    };
    const opts = { ...this.#opts, path, headers: headers as never, body: this.#body as never };
    upstream.pool(this.#origin).dispatch(opts, mirrorHandler(done));
  }

  // --- from the attempt handlers -----------------------------------------

  deliverHead(attempt: HttpAttempt, status: number, headers: Headers, statusMessage: string | undefined): void {
    this.#committed = attempt;
    this.#delivered = true;
    this.#status = status;
    this.#answeredBy = attempt;
    if (this.#paused) attempt.controller?.pause();
    const mutation = this.target.responseHeaders;
    let out = headers;
    if (mutation !== undefined) {
      out = mutateResponseHeaders(headers ?? EMPTY_HEADERS, mutation) as Headers;
      this.#mutatedRawHeaders = rawHeaderList(out);
    }
    this.#inner.onResponseStart?.(this, status, out as never, statusMessage);
  }

  deliverUpgrade(_controller: Controller, status: number, headers: never, socket: never): void {
    this.#delivered = true;
    this.#inner.onRequestUpgrade?.(this, status, headers, socket);
  }

  deliverData(chunk: Buffer): void {
    this.#responseBytes += chunk.length;
    this.#inner.onResponseData?.(this, chunk);
  }

  deliverEnd(trailers: never): void {
    this.#report(undefined, '-');
    this.#inner.onResponseEnd?.(this, trailers);
    this.#forget();
  }

  deliverError(err: Error): void {
    this.#delivered = true;
    // A response that broke off mid-body keeps its status; Envoy flags it UR/DC.
    this.#report(err, isMeshError(err) ? err.responseFlag : '-');
    this.#inner.onResponseError?.(this, err);
    this.#forget();
  }

  /**
   * The caller has its answer: let go of its handler (and through it the
   * response body stream) and the attempts. An attempt undici still points
   * to keeps this call reachable (see HttpAttempt's #forget), so whatever
   * the call holds would otherwise survive scavenges with it: in
   * bench:gc-modes this took the GC pause per request from ~7 to ~0.9 µs in
   * processes where V8 pretenures. The request body stays: a mirror waiting
   * for its cluster's first discovery still sends it.
   */
  #forget(): void {
    this.#inner = ANSWERED;
    this.#committed = undefined;
    this.#answeredBy = undefined;
    this.#mutatedRawHeaders = undefined;
    this.forgetAttempts();
  }

  /** Tell the observer how the call ended, once. */
  #report(error: Error | undefined, flags: string): void {
    const observer = this.env.observer;
    if (observer === undefined || this.#reported) return;
    this.#reported = true;
    observer.end(this, {
      status: this.#status,
      grpcStatus: undefined,
      flags,
      requestBytes: bodyLength(this.#body),
      responseBytes: this.#responseBytes,
      upstream: this.#answeredBy?.upstream,
      error,
    });
  }

  /** The caller's options, changed only where this attempt differs (path, headers, body). */
  #attemptOptions(attempt: Attempt, body: unknown): Dispatcher.DispatchOptions {
    const opts = this.#opts;
    const budget = attempt.remainingMs;
    const mutation = attempt.requestHeaders;
    const authority = this.policy.route.rewriteAuthority;
    const trace = attempt.traceHeaders;
    if (attempt.path === opts.path && budget === undefined && mutation === undefined && authority === undefined && trace === undefined) {
      return body === opts.body ? opts : { ...opts, body: body as never };
    }
    // The observer's trace headers are this attempt's own list, so the rest is appended to it.
    let set = trace;
    if (budget !== undefined || authority !== undefined) {
      set ??= [];
      if (budget !== undefined) set.push(DEADLINE_HEADER, String(budget));
      if (authority !== undefined) set.push('host', authority);
    }
    const headers = mutation === undefined && set === undefined ? opts.headers : rewriteRequestHeaders(opts.headers, mutation, set);
    return { ...opts, path: attempt.path, headers: headers as never, body: body as never };
  }
}

/** Methods are nearly always given in upper case; toUpperCase would still copy them (~40 ns). */
function upperMethod(m: string): string {
  return m === 'GET' || m === 'POST' || m === 'PUT' || m === 'DELETE' || m === 'HEAD' || m === 'PATCH' || m === 'OPTIONS' ? m : m.toUpperCase();
}

/** Bytes of a body the mesh holds (buffered or given whole); 0 for a stream sent once. */
function bodyLength(body: unknown): number {
  if (typeof body === 'string') return Buffer.byteLength(body);
  if (body instanceof Uint8Array) return body.byteLength;
  if (Array.isArray(body)) return body.reduce((n: number, c: unknown) => n + (c instanceof Uint8Array ? c.byteLength : 0), 0);
  return 0;
}

function rawHeaderList(headers: Headers): Buffer[] {
  const raw: Buffer[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) raw.push(Buffer.from(name, 'latin1'), Buffer.from(v, 'latin1'));
  }
  return raw;
}

/** Envoy's convention: the mirror's Host gets "-shadow", so the mirror can tell copies from real traffic. */
function shadowHost(host: string): string {
  const colon = host.lastIndexOf(':');
  if (colon > 0 && !host.endsWith(']')) return `${host.slice(0, colon)}-shadow${host.slice(colon)}`;
  return `${host}-shadow`;
}

function mirrorHandler(done: () => void): Handler {
  let finished = false;
  const finish = () => {
    if (!finished) {
      finished = true;
      done();
    }
  };
  return {
    onRequestStart() {},
    onResponseStart() {},
    onResponseData() {},
    onResponseEnd: finish,
    onResponseError: finish,
  };
}
