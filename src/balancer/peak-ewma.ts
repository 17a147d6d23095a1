/**
 * Peak-EWMA latency estimate and the picker that uses it (Finagle's
 * `PeakEwma` balancer, Linkerd's default).
 *
 * The estimate is "peaky": a response slower than the current estimate
 * replaces it at once, so one slow replica is avoided immediately, while
 * faster responses only pull it down gradually. It also decays towards zero
 * while no response arrives, as in Finagle and tower, so a replica that was
 * slow once and then starved of traffic is eventually probed again instead of
 * being shunned forever.
 */
import { monotonicNow } from '../net/monotonic-clock.js';
import { TwoChoices } from './two-choices.js';
import type { BalancedEndpoint, Picker, PickerOptions } from './types.js';

/** Finagle's and Linkerd's default decay time. */
export const DEFAULT_DECAY_MS = 10_000;

// Responses are clamped to at least this, so an answer faster than the
// clock's resolution still counts as an observation: a cost of exactly 0 is
// how we recognise an endpoint that has never answered.
const MIN_RTT_MS = 0.001;

/**
 * Per-endpoint latency estimate, owned by the endpoint tier. Reading is pure
 * (cost(now) does not write), so any number of pickers may read it; only
 * observe() moves it.
 *
 * Observe failures and timeouts too, with the time they took: an endpoint
 * that only ever fails slowly would otherwise never report, and its estimate
 * would decay until it looked like the cheapest endpoint of all.
 */
export class PeakEwma {
  readonly tau: number;
  #cost = 0;
  #stamp = 0;

  /** @param decayMs mean lifetime of a sample: it has 1/e of its weight after this long. */
  constructor(decayMs = DEFAULT_DECAY_MS) {
    if (!(decayMs > 0)) throw new RangeError(`peak-EWMA decay must be a positive number of ms, got ${decayMs}`);
    this.tau = decayMs;
  }

  /** Record one response's round-trip time, both in ms on the mesh's monotonic clock. */
  observe(rttMs: number, now: number): void {
    if (Number.isNaN(rttMs)) return;
    const rtt = Math.max(rttMs, MIN_RTT_MS);
    // The weight depends on the time since the last sample because samples
    // arrive unevenly: a long gap means the old estimate is stale.
    const w = Math.exp(-Math.max(now - this.#stamp, 0) / this.tau);
    const current = this.#cost * w;
    this.#cost = rtt > current ? rtt : current + rtt * (1 - w);
    this.#stamp = now;
  }

  /** The estimate at `now` in ms; 0 before the first response. */
  cost(now: number): number {
    const c = this.#cost;
    if (c === 0) return 0;
    return c * Math.exp(-Math.max(now - this.#stamp, 0) / this.tau);
  }
}

/**
 * Cost used for an endpoint that has not answered yet but has requests
 * pending (Finagle's choice, there Long.MaxValue >> 16). With nothing pending
 * such an endpoint costs 0 and wins, so a new replica gets one probe at once;
 * while that probe is outstanding it costs this much and gets no more, so a
 * black hole absorbs one request rather than a flood. Adding `inFlight` keeps
 * several unknown endpoints ordered by load, and when every endpoint is
 * unknown (at startup) the picker degrades to least-request.
 */
export const UNOBSERVED_PENDING_PENALTY = 1e12;

class PeakEwmaPicker<E extends BalancedEndpoint> implements Picker<E> {
  readonly size: number;
  readonly #choices: TwoChoices<E>;
  readonly #now: () => number;
  #pickTime = 0;
  // Bound once so a pick allocates no closure; it reads the time the pick took.
  readonly #cheaper = (a: E, b: E): boolean => cost(b, this.#pickTime) < cost(a, this.#pickTime);

  constructor(endpoints: readonly E[], random: () => number, now: () => number) {
    this.#choices = new TwoChoices(endpoints, random);
    this.size = endpoints.length;
    this.#now = now;
  }

  pick(): E | undefined {
    if (this.size > 1) this.#pickTime = this.#now();
    return this.#choices.choose(this.#cheaper);
  }
}

function cost(e: BalancedEndpoint, now: number): number {
  const latency = e.latencyCost(now);
  const pending = e.inFlight;
  // Weight is not in the cost: unequal weights already bias the candidate draw.
  if (latency === 0 && pending > 0) return UNOBSERVED_PENDING_PENALTY + pending;
  return latency * (pending + 1);
}


/**
 * Power of two choices (candidates drawn by weight) on latencyCost(now) * (inFlight + 1).
 * `now` is read once per pick, and only when there are two candidates;
 * tests and simulations may pass their own clock.
 */
export function peakEwmaPicker<E extends BalancedEndpoint>(
  endpoints: readonly E[],
  options: PickerOptions = {},
  now: () => number = monotonicNow,
): Picker<E> {
  return new PeakEwmaPicker(endpoints, options.random ?? Math.random, now);
}
