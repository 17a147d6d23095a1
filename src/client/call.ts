/**
 * One logical outbound call, protocol-neutral: the mechanics of attempts,
 * retries, hedges and deadlines. What runs in which order (and why) is in
 * stack.ts; how bytes move is the adapter's (http.ts). An adapter reports
 * each attempt's fate through onSent / onResponse / onError / onEnd and the
 * call answers with decisions, so HTTP and gRPC share one retry loop.
 *
 * Timers (deadline, per-try, hedge, backoff) all go on the shared wheel: no
 * call creates a timer of its own.
 */
import { AsyncResource } from 'node:async_hooks';
import { isMeshError, MeshError } from '../errors.js';
import { backoffDelay, parseRetryAfter } from '../resilience/backoff.js';
import { type AttemptOutcome, retryReasonOf, type Verdict } from '../resilience/classifier.js';
import { currentDeadline } from '../resilience/deadline-context.js';
import type { TimerEntry } from '../resilience/deadline-wheel.js';
import { isIdempotent } from '../resilience/retry-policy.js';
import { publish } from '../telemetry/events.js';
import type { CallPolicy, RouteTarget } from './call-policy.js';
import type { Attempt, CallRequest, CallTransport, Cluster, LocalReply, ObservedCall } from './call-types.js';
import { admitAttempt, admitCall, type CallEnv, pickEndpoint, recordOutcome } from './stack.js';
import type { Upstream } from './upstream.js';

/** A server's Retry-After longer than this is not waited for; the response goes to the caller. */
export const MAX_RETRY_AFTER_MS = 10_000;

/**
 * One attempt's pipeline state. The adapter's per-attempt object (the
 * HTTP handler) extends it, so an attempt is one object, not two.
 */
export abstract class CallAttempt implements Attempt {
  readonly upstream: Upstream;
  readonly cluster: Cluster;
  readonly number: number;
  readonly hedge: boolean;
  readonly path: string;
  readonly requestHeaders: Attempt['requestHeaders'];
  readonly remainingMs: number | undefined;
  readonly startedAt: number;
  readonly isRetry: boolean;
  perTry: TimerEntry<CallAttempt> | undefined;
  readonly call: OutboundCall;
  /** Headers the observer asked to send with this attempt (trace context). */
  traceHeaders: string[] | undefined;
  pending = true;
  finished = false;
  /** Still waiting for its verdict: not yet judged, abandoned or cancelled. */
  live = true;

  constructor(
    upstream: Upstream,
    target: RouteTarget,
    n: number,
    hedge: boolean,
    path: string,
    remainingMs: number | undefined,
    now: number,
    isRetry: boolean,
    call: OutboundCall,
  ) {
    this.call = call;
    this.upstream = upstream;
    this.cluster = target.cluster;
    this.number = n;
    this.hedge = hedge;
    this.path = path;
    this.requestHeaders = target.requestHeaders;
    this.remainingMs = remainingMs;
    this.startedAt = now;
    this.isRetry = isRetry;
  }
}

/**
 * A protocol adapter extends this class and implements the CallTransport
 * half (how bytes move): one object per call instead of a call plus an
 * adapter pointing at each other.
 */
export abstract class OutboundCall implements ObservedCall, CallTransport {
  readonly policy: CallPolicy;
  /** What the observer keeps for this call (its trace); undefined without an observer. */
  observation: unknown;
  startedAt = 0;
  /**
   * The caller's async context. A retry, a hedge or a
   * delayed first attempt is launched from a response callback (the pooled
   * socket's context) or from the shared timer wheel (the context of
   * whichever call armed it); dispatched there, another request's context
   * would be active for it: the application's AsyncLocalStorage stores, and
   * the span other instrumentations (undici's) parent theirs under.
   */
  #caller: AsyncResource | undefined;
  /** Why the next attempt is a retry (retryReasonOf its verdict), for telemetry. */
  #retryReason: string | undefined;
  readonly env: CallEnv;
  target!: RouteTarget;
  /** Set by fault injection when the call is to be aborted once its fault delay has passed. */
  faultReply: LocalReply | undefined;
  #deadlineAt = Number.POSITIVE_INFINITY;
  #deadlineSource: 'timeout' | 'inherited' | 'caller' = 'timeout';
  #deadlineTimer: TimerEntry<OutboundCall> | undefined;
  #waitTimer: TimerEntry | undefined;
  #hedgeTimer: TimerEntry | undefined;
  // Most calls make one attempt, so the first has a field of its own and a
  // list exists only once a retry or hedge starts.
  #first: CallAttempt | undefined;
  #later: CallAttempt[] | undefined;
  #committed: CallAttempt | undefined;
  #started = 0;
  #retries = 0;
  #hedges = 0;
  #done = false;
  #lastError: Error | undefined;

  constructor(policy: CallPolicy, env: CallEnv) {
    this.policy = policy;
    this.env = env;
  }

  // --- CallTransport: the adapter's half ----------------------------------
  abstract readonly request: CallRequest;
  /** The adapter's attempt object (a CallAttempt subclass), constructed with these arguments. */
  protected abstract createAttempt(
    upstream: Upstream,
    target: RouteTarget,
    n: number,
    hedge: boolean,
    path: string,
    remainingMs: number | undefined,
    now: number,
    isRetry: boolean,
  ): CallAttempt;
  abstract startAttempt(attempt: Attempt): void;
  abstract cancelAttempt(attempt: Attempt, reason: Error): void;
  abstract failCommitted(attempt: Attempt, err: Error): void;
  abstract fail(err: Error): void;
  abstract reply(reply: LocalReply): void;
  abstract mirror(target: RouteTarget): void;

  /** A deadline the caller gave with the call itself (gRPC's), on the env's clock; none by default. */
  protected callerDeadlineAt(_now: number): number | undefined {
    return undefined;
  }

  get done(): boolean {
    return this.#done;
  }

  /** Milliseconds left before the deadline, or undefined when there is none. */
  remainingMs(now: number): number | undefined {
    return this.#deadlineAt === Number.POSITIVE_INFINITY ? undefined : Math.max(0, Math.floor(this.#deadlineAt - now));
  }

  get cluster(): Cluster {
    return this.target.cluster;
  }
  get subset(): string | undefined {
    return this.target.subset;
  }
  get routeName(): string {
    return this.policy.route.name;
  }
  get attempts(): number {
    return this.#started;
  }

  /** Run the call: deadline, admission, then the first attempt (or a local answer). */
  run(): void {
    const now = this.env.now();
    this.startedAt = now;
    const p = this.policy;
    if (p.timeoutMs !== undefined && p.timeoutMs > 0) this.#deadlineAt = now + p.timeoutMs;
    const inherited = currentDeadline();
    if (inherited !== undefined && inherited.at < this.#deadlineAt) {
      this.#deadlineAt = inherited.at;
      this.#deadlineSource = 'inherited';
    }
    const own = this.callerDeadlineAt(now);
    if (own !== undefined && own < this.#deadlineAt) {
      this.#deadlineAt = own;
      this.#deadlineSource = 'caller';
    }
    this.target = p.pickTarget(p.targets.length > 1 ? Math.random() : 0);
    // Taken before anything can launch an attempt later. An AsyncResource, ~40 ns: AsyncLocalStorage.snapshot()
    // binds a function and defines properties on it, ~2.8 µs a call (measured on Node 24).
    this.#caller = new AsyncResource('proxyless.call');
    if (this.env.observer !== undefined) this.observation = this.env.observer.start(this);
    const outcome = admitCall(this);
    if (outcome === 'stop') return;
    if (this.#deadlineAt !== Number.POSITIVE_INFINITY) {
      if (this.#deadlineAt <= now) {
        this.#failDeadline();
        return;
      }
      this.#deadlineTimer = this.env.wheel.schedule(this.#deadlineAt, fireDeadline, this);
    }
    if (outcome > 0) {
      // Fault injection's delay: held on the wheel like every other wait.
      this.#waitTimer = this.env.wheel.schedule(now + outcome, () => {
        this.#waitTimer = undefined;
        this.#caller!.runInAsyncScope(() => this.#beginFirst());
      });
      return;
    }
    this.#beginFirst();
  }

  #beginFirst(): void {
    if (this.#done) return;
    if (this.faultReply !== undefined) {
      this.#finish();
      this.reply(this.faultReply);
      return;
    }
    const cluster = this.target.cluster;
    if (!cluster.initialized) {
      // Only during start-up: wait for discovery's first answer instead of
      // refusing requests while the mesh warms up.
      cluster.whenInitialized().then(() => this.#beginFirst());
      return;
    }
    this.#launch(false, false);
  }

  /** Start an attempt; false when none could start (the call has then been failed). */
  #launch(hedge: boolean, isRetry: boolean): boolean {
    const cluster = this.target.cluster;
    const refused = admitAttempt(cluster, isRetry);
    if (refused !== undefined) {
      if (hedge) return false;
      this.#finishWithError(refused);
      return false;
    }
    const upstream = pickEndpoint(cluster, this.target.subset, this.request, this.#first === undefined ? undefined : this);
    if (upstream === undefined) {
      releaseAdmission(cluster, isRetry, true);
      cluster.breaker?.release();
      if (hedge) return false;
      this.#finishWithError(cluster.noUpstreamError());
      return false;
    }
    const now = this.env.now();
    const path = this.policy.route.rewritePath?.(this.request.path) ?? this.request.path;
    const att = this.createAttempt(upstream, this.target, this.#started++, hedge, path, this.remainingMs(now), now, isRetry);
    upstream.inFlight++;
    if (this.#first === undefined) this.#first = att;
    else if (this.#later === undefined) this.#later = [att];
    else this.#later.push(att);
    const perTry = this.policy.retry.perTryTimeoutMs;
    if (perTry !== undefined && perTry > 0 && now + perTry < this.#deadlineAt) {
      att.perTry = this.env.wheel.schedule(now + perTry, firePerTry, att);
    }
    if (!hedge && this.#started === 1) this.#armHedge(now);
    if (this.env.observer !== undefined) {
      att.traceHeaders = this.env.observer.attempt(this, att, hedge ? 'hedge' : isRetry ? this.#retryReason : undefined);
    }
    this.startAttempt(att);
    return true;
  }

  // --- adapter callbacks -------------------------------------------------

  /** The attempt's request left for the endpoint (it is no longer pending a connection). */
  onSent(att: Attempt): void {
    const a = att as CallAttempt;
    if (a.pending) {
      a.pending = false;
      a.cluster.limits.endPending();
    }
  }

  /**
   * Response headers arrived. True: the adapter passes this response to the
   * caller. False: the adapter discards it (drains or aborts) and the call
   * carries on (retry, or another attempt in flight).
   */
  onResponse(att: Attempt, outcome: AttemptOutcome): boolean {
    const a = att as CallAttempt;
    if (a.finished || this.#done) return false;
    const verdict = this.env.classifier(outcome);
    const at = this.#settle(a, verdict, false);
    const response = outcome.kind === 'response';
    this.env.observer?.attemptEnd(this, a, response ? outcome.status : 0, response ? outcome.grpcStatus : undefined, at);
    // A hedge is still out; it may do better than this failure.
    if (verdict.class !== 'success' && this.#anyLive()) return false;
    const mayRetry = verdict.class !== 'success' || this.policy.retry.retriesStatuses;
    if (mayRetry && this.#tryRetry(verdict, outcome, undefined)) {
      // A retried status the classifier called a success was not released by #settle.
      this.#release(a);
      return false;
    }
    // Commit: this response is the call's answer.
    this.#committed = a;
    this.#clearHedge();
    if (this.#later !== undefined) this.#abandonLive(undefined, new MeshError('MESH_ABORTED', 'another attempt won'));
    return true;
  }

  /** The attempt failed before a response was committed. */
  onError(att: Attempt, err: Error, responseStarted: boolean): void {
    const a = att as CallAttempt;
    if (a.finished || this.#done) return;
    const outcome: AttemptOutcome = { kind: 'error', error: err, responseStarted };
    const verdict = this.env.classifier(outcome);
    const at = this.#settle(a, verdict, true);
    this.env.observer?.attemptEnd(this, a, err, undefined, at);
    this.#lastError = err;
    if (this.#anyLive()) return;
    if (this.#tryRetry(verdict, outcome, err)) return;
    this.#finishWithError(this.#explained(err));
  }

  /** The committed response finished (body and trailers delivered). */
  onEnd(att: Attempt): void {
    this.#release(att as CallAttempt);
    this.#finish();
  }

  /** The committed response broke off mid-body; the adapter has told the caller. */
  onCommittedError(att: Attempt): void {
    // The verdict was given at the headers; a broken body is the caller's
    // error to see, not a second verdict on the endpoint.
    this.#release(att as CallAttempt);
    this.#finish();
  }

  /** The caller gave up: stop everything, charge no endpoint. */
  cancel(reason: Error): void {
    if (this.#done) return;
    // The caller's own reason goes back as it is: no fallback answers a caller who left.
    if (!this.#stopAll(reason)) {
      this.#finish();
      this.fail(reason);
    }
  }

  /**
   * Cancel every attempt with `err`; a committed response still streaming
   * ends with `err` too. True when that committed response carried the
   * error (the call is then over); false when the caller is still owed an
   * answer.
   */
  #stopAll(err: Error): boolean {
    const committed = this.#committed;
    this.#abandonLive(committed, err);
    if (committed === undefined || committed.finished) return false;
    this.#release(committed);
    this.failCommitted(committed, err);
    this.#finish();
    return true;
  }

  // --- decisions ---------------------------------------------------------

  /** Counters and stats for an attempt that has its verdict; returns the clock reading taken for it, which telemetry shares. */
  #settle(a: CallAttempt, verdict: Verdict, failed: boolean): number {
    if (a.perTry !== undefined) {
      a.perTry.cancel();
      a.perTry = undefined;
    }
    const now = this.env.now();
    recordOutcome(a, verdict, now, failed);
    if (verdict.class === 'success') a.cluster.latency.record(now - a.startedAt);
    a.live = false;
    if (verdict.class !== 'success' || failed) this.#release(a);
    return now;
  }

  #tryRetry(verdict: Verdict, outcome: AttemptOutcome, err: Error | undefined): boolean {
    const why = this.#whyNotRetry(verdict, outcome);
    if (why === undefined) return true;
    if (why !== 'not-retryable') {
      const p = this.policy;
      publish('retrySkipped', () => ({
        service: this.target.cluster.name,
        route: p.route.name,
        reason: retryReasonOf(verdict),
        why,
      }));
      if (err !== undefined) this.#lastError = annotate(err, why, this.target.cluster.name);
    }
    return false;
  }

  /** Schedules a retry and returns undefined, or says why there is none. */
  #whyNotRetry(verdict: Verdict, outcome: AttemptOutcome): string | undefined {
    const p = this.policy;
    const req = this.request;
    if (!p.retry.retries(verdict, outcome)) return 'not-retryable';
    if (this.#retries >= p.retry.maxRetries) return 'attempts-exhausted';
    if (req.replayBlocker !== undefined) return req.replayBlocker;
    // A connect failure sent nothing, so even a POST is safe to send again.
    const nothingSent = verdict.reason === 'connect-failure';
    if (!nothingSent && !p.retry.retryNonIdempotent && !isIdempotent(req.method, req.hasIdempotencyKey)) {
      return 'non-idempotent';
    }
    const now = this.env.now();
    let delay = backoffDelay(this.#retries + 1, { baseMs: p.retry.backoffBaseMs, maxMs: p.retry.backoffMaxMs }, Math.random());
    if (outcome.kind === 'response') {
      const after = parseRetryAfter(outcome.header('retry-after'), Date.now());
      if (after !== undefined) {
        if (after > MAX_RETRY_AFTER_MS) return 'retry-after-too-long';
        delay = Math.max(delay, after);
      }
    }
    if (now + delay >= this.#deadlineAt) return 'deadline';
    if (!this.target.cluster.budget.tryWithdraw()) return 'budget';
    this.#retries++;
    const reason = retryReasonOf(verdict);
    this.#retryReason = reason;
    publish('retry', () => ({
      service: this.target.cluster.name,
      route: p.route.name,
      attempt: this.#retries,
      reason,
      delayMs: delay,
    }));
    if (delay <= 0) {
      this.#caller!.runInAsyncScope(() => this.#launch(false, true));
      return undefined;
    }
    this.#waitTimer = this.env.wheel.schedule(now + delay, () => {
      this.#waitTimer = undefined;
      if (!this.#done) this.#caller!.runInAsyncScope(() => this.#launch(false, true));
    });
    return undefined;
  }

  #armHedge(now: number): void {
    const h = this.policy.hedge;
    if (h === undefined || this.#hedges >= h.maxRequests) return;
    const req = this.request;
    if (req.replayBlocker !== undefined) return;
    if (!this.policy.retry.retryNonIdempotent && !isIdempotent(req.method, req.hasIdempotencyKey)) return;
    const delay = h.delay === 'p95' ? this.target.cluster.latency.quantile(0.95) : h.delay;
    if (delay === undefined || now + delay >= this.#deadlineAt) return;
    this.#hedgeTimer = this.env.wheel.schedule(now + delay, () => {
      this.#hedgeTimer = undefined;
      this.#caller!.runInAsyncScope(() => this.#fireHedge(delay));
    });
  }

  #fireHedge(delay: number): void {
    if (this.#done || this.#committed !== undefined) return;
    if (!this.target.cluster.budget.tryWithdraw()) return;
    this.#hedges++;
    publish('hedge', () => ({
      service: this.target.cluster.name,
      route: this.policy.route.name,
      attempt: this.#started,
      delayMs: delay,
    }));
    if (this.#launch(true, true)) this.#armHedge(this.env.now());
  }

  /** @internal The wheel's callback (one shared function, so scheduling allocates no closure). */
  onPerTryTimeout(a: CallAttempt): void {
    a.perTry = undefined;
    if (a.finished || this.#done) return;
    const err = new MeshError(
      'MESH_ATTEMPT_TIMEOUT',
      `attempt ${a.number + 1} to ${a.cluster.name} endpoint ${a.upstream.key} exceeded its per-try timeout of ${this.policy.retry.perTryTimeoutMs} ms`,
      { details: { service: a.cluster.name, endpoint: a.upstream.key, perTryTimeoutMs: this.policy.retry.perTryTimeoutMs } },
    );
    this.cancelAttempt(a, err);
    this.onError(a, err, false);
  }

  /** @internal See onPerTryTimeout. */
  onDeadline(): void {
    this.#deadlineTimer = undefined;
    if (this.#done) return;
    const err = this.#deadlineError();
    publish('rejected', () => ({ service: this.target.cluster.name, code: err.code }));
    if (!this.#stopAll(err)) this.#finishWithError(err);
  }

  #failDeadline(): void {
    this.#finishWithError(this.#deadlineError());
  }

  #deadlineError(): MeshError {
    const name = this.target.cluster.name;
    const what =
      this.#deadlineSource === 'inherited'
        ? 'the deadline inherited from the inbound request'
        : this.#deadlineSource === 'caller'
          ? 'the deadline the caller set'
          : `its timeout of ${this.policy.timeoutMs} ms`;
    return new MeshError('MESH_DEADLINE_EXCEEDED', `call to ${name} ran out of time: ${what} passed`, {
      details: { service: name, route: this.policy.route.name, source: this.#deadlineSource, attempts: this.#started },
      ...(this.#lastError !== undefined ? { cause: this.#lastError } : {}),
    });
  }

  #clearHedge(): void {
    if (this.#hedgeTimer !== undefined) {
      this.#hedgeTimer.cancel();
      this.#hedgeTimer = undefined;
    }
  }

  /** Whether this call already tried the endpoint (pickEndpoint avoids it for retries and hedges). */
  tried(upstream: Upstream): boolean {
    if (this.#first?.upstream === upstream) return true;
    const later = this.#later;
    if (later !== undefined) for (const a of later) if (a.upstream === upstream) return true;
    return false;
  }

  #anyLive(): boolean {
    if (this.#first?.live === true) return true;
    const later = this.#later;
    if (later !== undefined) for (const a of later) if (a.live) return true;
    return false;
  }

  /** Abandon every attempt still waiting for a verdict, except `keep`. */
  #abandonLive(keep: CallAttempt | undefined, reason: Error): void {
    const first = this.#first;
    if (first !== undefined && first !== keep && first.live) this.#abandon(first, reason);
    const later = this.#later;
    if (later !== undefined) for (const a of later) if (a !== keep && a.live) this.#abandon(a, reason);
  }

  /** Stop an attempt nobody wants any more; not charged to the endpoint. */
  #abandon(a: CallAttempt, reason: Error): void {
    a.live = false;
    if (a.finished) return;
    if (a.perTry !== undefined) {
      a.perTry.cancel();
      a.perTry = undefined;
    }
    a.cluster.breaker?.release();
    this.#release(a);
    this.env.observer?.attemptEnd(this, a, reason, undefined, this.env.now());
    this.cancelAttempt(a, reason);
  }

  /** Give back everything the attempt held: in-flight count, pool-limit slots. */
  #release(a: CallAttempt): void {
    if (a.finished) return;
    a.finished = true;
    a.upstream.inFlight--;
    releaseAdmission(a.cluster, a.isRetry, a.pending);
    a.pending = false;
  }

  #explained(err: Error): Error {
    return this.#lastError ?? err;
  }

  #finishWithError(err: Error): void {
    if (this.#done) return;
    const fallback = this.target?.cluster.fallback;
    const reply = fallback !== undefined && isMeshError(err) ? fallback(err, this.request) : undefined;
    this.#finish();
    if (reply !== undefined) this.reply(reply);
    else this.fail(err);
  }

  /** After the caller has its answer: drop the attempts, so a retained attempt or call keeps little alive. */
  protected forgetAttempts(): void {
    this.#first = undefined;
    this.#later = undefined;
    this.#committed = undefined;
  }

  /** Everything is over: cancel the timers. */
  #finish(): void {
    this.#done = true;
    this.#deadlineTimer?.cancel();
    this.#deadlineTimer = undefined;
    this.#waitTimer?.cancel();
    this.#waitTimer = undefined;
    this.#clearHedge();
  }
}

function fireDeadline(entry: TimerEntry<OutboundCall>): void {
  entry.context.onDeadline();
}

function firePerTry(entry: TimerEntry<CallAttempt>): void {
  entry.context.call.onPerTryTimeout(entry.context);
}

function releaseAdmission(cluster: Cluster, isRetry: boolean, pending: boolean): void {
  cluster.limits.endRequest();
  if (pending) cluster.limits.endPending();
  if (isRetry) cluster.limits.endRetry();
}


/** The same failure, saying why it was not retried (budget gets its own code). */
function annotate(err: Error, why: string, service: string): Error {
  if (why === 'budget') {
    return new MeshError(
      'MESH_RETRY_BUDGET_EXHAUSTED',
      `${err.message}; not retried: the retry budget for ${service} is exhausted`,
      { cause: err, details: { service, notRetried: why } },
    );
  }
  if (!isMeshError(err)) return err;
  return new MeshError(err.code, `${err.message}; not retried: ${WHY_TEXT[why] ?? why}`, {
    cause: err.cause ?? err,
    retryable: err.retryable,
    details: { ...err.details, notRetried: why },
  });
}

const WHY_TEXT: Readonly<Record<string, string>> = {
  'attempts-exhausted': 'no retry attempts left',
  'non-idempotent': 'the method is not idempotent (send an Idempotency-Key header, or set retries.retryNonIdempotent)',
  'body-over-replay-cap': 'the request body is larger than the replay buffer (retryBufferBytes)',
  'body-not-replayable': 'the request body is a stream that cannot be sent twice',
  deadline: 'no time left before the deadline',
  'retry-after-too-long': `the server asked to wait longer than ${MAX_RETRY_AFTER_MS} ms`,
};
