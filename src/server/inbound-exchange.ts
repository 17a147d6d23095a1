/**
 * One inbound request as the pipeline sees it, whatever the protocol or
 * framework: admitted or shed, its SERVER span, the deadline its caller
 * sent, who the caller is (mTLS peer, JWT), the route template once the
 * framework knows it, and at the end one RequestRecord
 * (reporter="destination") for Istio's metrics, the access log and the
 * per-route metrics. Adapters create one per request and call finish()
 * exactly once, however the request ends.
 */
import { MeshError } from '../errors.js';
import { monotonicNow } from '../net/monotonic-clock.js';
import { normalizePath } from '../net/normalize-path.js';
import { budgetFromRecord, type Deadline, deadlineFromBudget, runWithDeadline } from '../resilience/deadline-context.js';
import { hasSubscribers, publish } from '../telemetry/events.js';
import { type RequestRecord, scratchRecord } from '../telemetry/request-record.js';
import type { ServerTrace } from '../telemetry/tracing/server-trace.js';
import type { InboundGuard, RequestAuth } from './inbound-guard.js';
import type { InboundTelemetry } from './inbound-telemetry.js';
import { InboundView, type LocalSide } from './inbound-view.js';
import type { LiveLink } from './live-list.js';
import type { Peer } from './peer.js';
import { UNMATCHED_ROUTE } from './route-metrics.js';

type Headers = Record<string, string | string[] | undefined>;

/** A request, as every protocol adapter describes it to the pipeline. */
export interface InboundCall {
  readonly protocol: 'http' | 'grpc';
  readonly method: string;
  /** Path with query, as received. For gRPC, `/package.Service/Method`. */
  readonly path: string;
  readonly authority: string;
  /** The request headers; authentication may remove or add some before the handler runs. */
  readonly headers: Headers;
  readonly peer: Peer;
  readonly local: LocalSide;
  readonly requestBytes: number;
  /**
   * The caller's remaining budget in ms, when the adapter has it already
   * (grpc-js parses and strips `grpc-timeout`); otherwise it is read from
   * the headers.
   */
  readonly budgetMs?: number | undefined;
}

/** How the request ended, as the adapter saw it. */
export interface InboundOutcome {
  /** HTTP status; 0 when no response was sent. */
  readonly status: number;
  readonly grpcStatus?: number | undefined;
  /**
   * The request's size when it is known only at the end (gRPC: the
   * messages the handler read); overrides `InboundCall.requestBytes`.
   */
  readonly requestBytes?: number | undefined;
  readonly responseBytes: number;
  /** False when the response was cut off (the client went away first). */
  readonly completed: boolean;
}

/** What a handler may read about its caller, in every framework. */
export interface MeshRequestContext {
  /** The mTLS peer (SPIFFE ID, principal, namespace), or an unauthenticated one over plaintext. */
  readonly peer: Peer;
  /** The verified JWT's `iss/sub`, when the request carried one. */
  readonly requestPrincipal: string | undefined;
  readonly claims: Readonly<Record<string, unknown>> | undefined;
}

/** The parts of the pipeline an exchange reports to. */
export interface ExchangeHost {
  readonly telemetry: InboundTelemetry | undefined;
  release(exchange: InboundExchange): void;
}

/** The metrics-only record, rewritten per request (see #scratchRecord). */
const SCRATCH = scratchRecord('destination', 'none');

export class InboundExchange implements MeshRequestContext, LiveLink<InboundExchange> {
  readonly call: InboundCall;
  /** Set when admission refused the request: answer with it and do not run the handler. */
  readonly refusal: MeshError | undefined;
  readonly #host: ExchangeHost;
  readonly #startedAt = monotonicNow();
  readonly #trace: ServerTrace | undefined;
  readonly #deadline: Deadline | undefined;
  readonly #guard: InboundGuard | undefined;
  #auth: RequestAuth | undefined;
  #route: string | undefined;
  #finished = false;
  /** Set by the adapter: read when the response ends, for the route template the framework matched. */
  routeOf: ((req: object, arg?: unknown) => string | undefined) | undefined;
  #authorized: Promise<string> | undefined;
  #authorizedPath: string | undefined;
  /** Set by the adapter: called if a drain starts while this request is in flight (HTTP/1.1 adds `Connection: close`). */
  onDrain: ((exchange: InboundExchange) => void) | undefined;
  /** The adapter's own per-request state, for its onDrain (one shared function, not a closure per request). */
  adapterState: unknown;
  /** @internal The pipeline's list of requests in flight (live-list.ts). */
  liveNext: InboundExchange | undefined = undefined;
  /** @internal */
  livePrev: InboundExchange | undefined = undefined;

  constructor(host: ExchangeHost, call: InboundCall, refusal: MeshError | undefined, guard: InboundGuard | undefined) {
    this.#host = host;
    this.call = call;
    this.refusal = refusal;
    this.#guard = guard?.active ? guard : undefined;
    const t = host.telemetry;
    const headers = call.headers;
    this.#trace = t?.tracer?.startServer(headers, {
      method: call.method,
      scheme: 'http',
      authority: call.authority,
      path: call.path,
      protocol: call.protocol,
      peerAddress: call.peer.address,
    });
    if (hasSubscribers('requestStart')) {
      publish('requestStart', () => ({ reporter: 'destination', service: t?.self().serviceName, method: call.method, path: call.path }));
    }
    // The caller's remaining time becomes this request's deadline: every call the handler makes inherits it.
    const budget = call.budgetMs ?? budgetFromRecord(headers);
    this.#deadline = budget === undefined ? undefined : deadlineFromBudget(budget);
  }

  get peer(): Peer {
    return this.call.peer;
  }

  get requestPrincipal(): string | undefined {
    return this.#auth?.requestPrincipal;
  }

  get claims(): Readonly<Record<string, unknown>> | undefined {
    return this.#auth?.claims;
  }

  get auth(): RequestAuth | undefined {
    return this.#auth;
  }

  get route(): string | undefined {
    return this.#route;
  }

  /** The route template the framework matched (`/users/:id`); never a raw path. */
  setRoute(route: string): void {
    this.#route = route;
    this.#trace?.setRoute(route);
  }

  /**
   * Runs `fn` in the request's trace context and deadline. Adapters whose
   * framework continues a request from I/O callbacks (Fastify after reading
   * the body) call it again to re-enter.
   */
  run<T>(fn: () => T): T;
  /** The same, passing `arg` to `fn`, so a caller needs no closure per request. */
  run<A, T>(fn: (arg: A) => T, arg: A): T;
  run<A, T>(fn: (arg?: A) => T, arg?: A): T {
    const trace = this.#trace;
    const deadline = this.#deadline;
    if (trace === undefined) return deadline === undefined ? fn(arg) : runWithDeadline(deadline, fn, arg);
    return deadline === undefined ? trace.runInContext(fn, arg) : trace.runInContext(() => runWithDeadline(deadline, fn, arg));
  }

  /** True when authentication may change the request's headers (a JWT rule): adapters with a copy of them must copy the changes back. */
  get rewritesHeaders(): boolean {
    return this.#guard?.rewritesHeaders === true;
  }

  /** True when authentication or authorization policies apply: call authorize() before the handler. */
  get guarded(): boolean {
    return this.#guard !== undefined;
  }

  /**
   * JWT authentication, then authorization, on the normalized path (which
   * it resolves with, so the handler sees the path that was judged).
   * Rejects with MESH_INVALID_ARGUMENT (400, a path that cannot be
   * normalized), MESH_UNAUTHENTICATED (401) or MESH_PERMISSION_DENIED (403).
   */
  authorize(): Promise<string> {
    // Once per request: a nested adapter (an app inside mesh.createServer) must not authenticate twice.
    this.#authorized ??= this.#authorizedPath !== undefined ? Promise.resolve(this.#authorizedPath) : this.#authorize();
    return this.#authorized;
  }

  /**
   * authorize() without a promise when no JWT rule applies (authorization
   * alone is synchronous): the normalized path, or undefined when the
   * caller must await authorize(). Throws what authorize() would reject with.
   */
  authorizeNow(): string | undefined {
    if (this.#authorizedPath !== undefined) return this.#authorizedPath;
    const call = this.call;
    const guard = this.#guard;
    if (guard === undefined) return call.path;
    if (this.#authorized !== undefined || guard.authenticates) return undefined;
    const path = normalizePath(call.path);
    if (path === undefined) throw new MeshError('MESH_INVALID_ARGUMENT', 'malformed request path');
    this.#auth = guard.admitNow(new InboundView(call.method, path, call.headers, call.peer, call.local), call.headers);
    this.#authorizedPath = path;
    return path;
  }

  async #authorize(): Promise<string> {
    const call = this.call;
    const guard = this.#guard;
    if (guard === undefined) return call.path;
    const path = normalizePath(call.path);
    if (path === undefined) throw new MeshError('MESH_INVALID_ARGUMENT', 'malformed request path');
    const view = new InboundView(call.method, path, call.headers, call.peer, call.local);
    this.#auth = await guard.admit(view, call.headers);
    return path;
  }

  /** Records the request; the first call wins, later ones do nothing. */
  finish(outcome: InboundOutcome, error?: MeshError): void {
    if (this.#finished) return;
    this.#finished = true;
    if (this.refusal === undefined) this.#host.release(this);
    const flags = error?.responseFlag ?? this.refusal?.responseFlag ?? (outcome.completed ? '-' : 'DC');
    const t = this.#host.telemetry;
    const trace = this.#trace;
    if (t === undefined && trace === undefined) return;
    // One reading ends the span and measures the duration.
    const endedAt = monotonicNow();
    trace?.end({ status: outcome.status, grpcStatus: outcome.grpcStatus, responseFlags: flags, endedAt });
    if (t === undefined) return;
    const durationMs = endedAt - this.#startedAt;
    const call = this.call;
    t.routes?.record(this.#route ?? UNMATCHED_ROUTE, call.method, outcome.status, durationMs);
    const metrics = t.metrics;
    if (t.accessLog === undefined && !hasSubscribers('requestEnd')) {
      if (metrics !== undefined) metrics.record(this.#scratchRecord(outcome, flags, durationMs, t));
      return;
    }
    const record = this.#record(outcome, flags, durationMs, t);
    metrics?.record(record);
    t.accessLog?.log(record);
    if (hasSubscribers('requestEnd')) publish('requestEnd', () => record);
  }

  /**
   * The fields Istio's metrics read, written into the one scratch record:
   * metrics read a record synchronously and keep nothing of it, so with no
   * access log and no subscriber the common path allocates no record (and
   * skips the wall-clock read only the access log wants).
   */
  #scratchRecord(outcome: InboundOutcome, flags: string, durationMs: number, t: InboundTelemetry): RequestRecord {
    const call = this.call;
    const peer = call.peer;
    const r = SCRATCH;
    r.source = t.peers.get(peer.principal, peer.namespace);
    r.destination = t.self();
    r.protocol = call.protocol;
    r.responseCode = outcome.status;
    r.grpcStatus = outcome.grpcStatus;
    r.responseFlags = flags;
    r.connectionSecurityPolicy = peer.authenticated ? 'mutual_tls' : 'none';
    r.durationMs = durationMs;
    r.requestBytes = outcome.requestBytes ?? call.requestBytes;
    r.responseBytes = outcome.responseBytes;
    return r;
  }

  #record(outcome: InboundOutcome, flags: string, durationMs: number, t: InboundTelemetry): RequestRecord {
    const call = this.call;
    const peer = call.peer;
    return {
      reporter: 'destination',
      source: t.peers.get(peer.principal, peer.namespace),
      destination: t.self(),
      protocol: call.protocol,
      responseCode: outcome.status,
      grpcStatus: outcome.grpcStatus,
      responseFlags: flags,
      connectionSecurityPolicy: peer.authenticated ? 'mutual_tls' : 'none',
      startTime: Date.now() - durationMs,
      durationMs,
      requestBytes: outcome.requestBytes ?? call.requestBytes,
      responseBytes: outcome.responseBytes,
      method: call.method,
      authority: call.authority,
      path: call.path,
      route: this.#route,
      upstreamHost: undefined,
      attempts: 1,
      traceId: this.#trace?.traceId,
      peerPrincipal: peer.principal,
    };
  }
}
