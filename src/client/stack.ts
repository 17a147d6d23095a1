/**
 * The default outbound stack, in one place, in order. Three tiers, as in
 * linkerd2-proxy's outbound stack:
 *
 *   logical  (service + route, once per call):  the route's own answer
 *            (redirect, direct response) → rate limit →
 *            fault abort → retry-budget deposit → mirror → fault delay;
 *            then deadline, retries and hedging, run by call.ts.
 *   concrete (cluster or subset, once per attempt): circuit breaker →
 *            pool limits → load-balancer pick.
 *   endpoint (once per attempt's verdict): latency estimate, outlier
 *            detection, breaker outcome.
 *
 * Each step says why it sits where it does. The steps are plain calls, not
 * a chain of Promises: a call that passes every check costs a few field
 * reads.
 */
import type { Picker } from '../balancer/types.js';
import { MeshError } from '../errors.js';
import type { Classifier, Verdict } from '../resilience/classifier.js';
import type { DeadlineWheel } from '../resilience/deadline-wheel.js';
import { publish } from '../telemetry/events.js';
import type { OutboundCall } from './call.js';
import type { Attempt, CallObserver, CallRequest, Cluster, LocalReply } from './call-types.js';
import type { Upstream } from './upstream.js';

/** What every call of one mesh shares. */
export interface CallEnv {
  readonly classifier: Classifier;
  readonly wheel: DeadlineWheel;
  readonly now: () => number;
  /** Telemetry; undefined when metrics, access log and tracing are all off. */
  readonly observer?: CallObserver;
}

/**
 * Logical tier. Returns 'stop' when the call was answered locally, else the
 * fault delay in ms (0 for none).
 */
export function admitCall(call: OutboundCall): 'stop' | number {
  const policy = call.policy;
  const route = policy.route;
  const req = call.request;

  // A route's own answer (redirect, direct response) first: it never reaches a cluster, so nothing below applies.
  if (route.answer !== undefined) {
    call.reply(route.answer(req.path, req.authority, req.scheme));
    return 'stop';
  }

  // Rate limits before faults and retries: a limited call must cost nothing
  // downstream, and its refusal must not count against the retry budget.
  const cluster = call.target.cluster;
  const routeAllows = policy.rateLimit?.tryTake() ?? true;
  if (!routeAllows || !(cluster.rateLimit?.tryTake() ?? true)) {
    const scope = routeAllows ? `service ${cluster.name}` : `route ${route.name}`;
    publish('rejected', () => ({ service: cluster.name, code: 'MESH_RATE_LIMITED' }));
    call.fail(
      new MeshError('MESH_RATE_LIMITED', `local rate limit for ${scope} exceeded`, {
        details: { service: cluster.name, route: route.name },
      }),
    );
    return 'stop';
  }

  // Faults stand in for the upstream, so they come after admission (a
  // limited call is not also aborted) and before anything touches the network.
  // The delay comes first, as Envoy's fault filter applies it: an aborted
  // call that was also picked for a delay is answered after the delay.
  const fault = route.fault;
  const delay = fault?.delay !== undefined && Math.random() < fault.delay.fraction ? fault.delay.ms : 0;
  const abort = fault?.abort;
  if (abort !== undefined && Math.random() < abort.fraction) {
    const reply: LocalReply = { status: abort.status, headers: abort.headers, body: abort.body, flag: delay > 0 ? 'DI,FI' : 'FI' };
    if (delay === 0) {
      call.reply(reply);
      return 'stop';
    }
    call.faultReply = reply;
    return delay;
  }

  // Every call that may go out pays into the budget that later retries draw on.
  cluster.budget.deposit();

  // Mirror before the primary's first attempt, fire-and-forget: it must not
  // wait for, or be cancelled by, the primary.
  const mirrors = route.mirrors;
  for (let i = 0; i < mirrors.length; i++) {
    if (Math.random() < mirrors[i]!.fraction) call.mirror(policy.mirrors[i]!);
  }
  return delay;
}

/**
 * Concrete tier, per attempt. The breaker comes first because an open
 * circuit must fail fast without taking pool slots; pool limits next so an
 * overflowing cluster refuses before an endpoint is charged with in-flight.
 * Atomic: on refusal nothing stays acquired.
 */
export function admitAttempt(cluster: Cluster, isRetry: boolean): MeshError | undefined {
  const breaker = cluster.breaker;
  if (breaker !== undefined && !breaker.tryAcquire()) {
    publish('rejected', () => ({ service: cluster.name, code: 'MESH_CIRCUIT_OPEN' }));
    return new MeshError('MESH_CIRCUIT_OPEN', `circuit breaker for ${cluster.name} is ${breaker.state}; failing fast`, {
      details: { service: cluster.name, state: breaker.state },
    });
  }
  const limits = cluster.limits;
  let refused: string | undefined;
  if (!limits.tryAdmitRequest()) refused = 'maxRequests';
  else if (!limits.tryAdmitPending()) {
    limits.endRequest();
    refused = 'maxPendingRequests';
  } else if (isRetry && !limits.tryAdmitRetry()) {
    limits.endPending();
    limits.endRequest();
    refused = 'maxRetries';
  }
  if (refused === undefined) return undefined;
  breaker?.release();
  publish('rejected', () => ({ service: cluster.name, code: 'MESH_OVERFLOW' }));
  return new MeshError('MESH_OVERFLOW', `connectionPool.${refused} for ${cluster.name} is full`, {
    details: { service: cluster.name, limit: refused },
  });
}

/** How many draws to spend looking for an endpoint this call has not tried yet. */
const FRESH_PICK_TRIES = 3;

/**
 * The load-balancer pick, preferring an endpoint this call has not tried:
 * a retry on the endpoint that just failed is the retry most likely to fail.
 */
export function pickEndpoint(
  cluster: Cluster,
  subset: string | undefined,
  request: CallRequest,
  tried: { tried(upstream: Upstream): boolean } | undefined,
): Upstream | undefined {
  const picker: Picker<Upstream> | undefined = cluster.picker(subset);
  if (picker === undefined || picker.size === 0) return undefined;
  const hash = cluster.hashOf(request);
  let pick = picker.pick(hash);
  if (tried === undefined || picker.size === 1) return pick;
  for (let i = 0; i < FRESH_PICK_TRIES && pick !== undefined && tried.tried(pick); i++) {
    // A consistent-hash pick is deterministic; only a random draw can move it.
    pick = picker.pick(hash === undefined ? undefined : (hash + 0x9e3779b9 * (i + 1)) >>> 0);
  }
  return pick;
}

/**
 * Endpoint tier: one verdict, fed to everything that learns from it. A
 * failure is charged to the latency estimate so a fast-failing replica does
 * not look like the fastest one.
 */
export function recordOutcome(attempt: Attempt, verdict: Verdict, now: number, failed: boolean): void {
  const bad = failed || verdict.class !== 'success';
  attempt.upstream.observe(now - attempt.startedAt, now, bad);
  attempt.cluster.recordVerdict(attempt.upstream, verdict);
  const breaker = attempt.cluster.breaker;
  if (breaker !== undefined) {
    if (bad) breaker.onFailure();
    else breaker.onSuccess();
  }
}
