/**
 * Slow start: which endpoints of a service are new, and how much of their
 * weight they get while they warm up.
 *
 * An endpoint joins when it is first seen ready (discovery's `healthy`),
 * not when it is first listed: Kubernetes lists a new pod before it is
 * ready, and Envoy with active health checks likewise starts the window
 * at the first passing check. One that leaves (or stops being ready) and
 * comes back warms again, since it may be a restarted process.
 *
 * The endpoints a service's first ready set holds do not warm. That set is
 * this process starting up, not those endpoints: they have been serving
 * everyone else. (Envoy starts every host's window at the host's creation,
 * so a restarted sidecar ramps all of them together, which changes nothing
 * until a later host joins and is then held to the same small share as the
 * old ones.)
 *
 * The weight factor is Envoy's:
 *   max(minimumPercent / 100, (max(age, 1 s) / duration) ^ (1 / aggression))
 * Pickers read weights when they are built, so while any endpoint warms,
 * the service rebuilds its pickers in steps (about 20 per window) on one
 * timer of its own, never per request.
 */
import {
  DEFAULT_WARMUP_AGGRESSION,
  DEFAULT_WARMUP_MINIMUM_PERCENT,
  type WarmupConfig,
} from '../config/warmup-schema.js';

/** What the ramp reads of an endpoint and writes back. */
export interface WarmingEndpoint {
  readonly key: string;
  /** Ready by discovery (not by outlier detection: an ejected endpoint that returns is not new). */
  readonly ready: boolean;
  /** The share of its weight the endpoint gets now, 0 to 1. */
  warmth: number;
}

const STEPS_PER_WINDOW = 20;
const MIN_STEP_MS = 250;
const MAX_STEP_MS = 5_000;

/** The share of its weight an endpoint `ageMs` old gets; 1 once the window has passed. */
export function warmupFactor(ageMs: number, warmup: WarmupConfig): number {
  if (ageMs >= warmup.duration) return 1;
  const floor = (warmup.minimumPercent ?? DEFAULT_WARMUP_MINIMUM_PERCENT) / 100;
  const time = Math.max(ageMs, 1_000) / warmup.duration;
  const ramp = time >= 1 ? 1 : time ** (1 / (warmup.aggression ?? DEFAULT_WARMUP_AGGRESSION));
  return Math.max(floor, ramp);
}

export class WarmupRamp {
  /** When each ready endpoint joined; -Infinity for those of the first ready set. */
  readonly #joined = new Map<string, number>();
  #primed = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #step: () => void;

  /** `step` rebuilds the service's pickers; the ramp calls it while any endpoint warms. */
  constructor(step: () => void) {
    this.#step = step;
  }

  /**
   * Notes who joined or left, and sets each endpoint's warmth for pickers
   * about to be built from `endpoints` (all of the service's). With no
   * warmup every endpoint gets all of its weight; joins are still noted,
   * so turning warmup on later ramps those that are new.
   */
  apply(endpoints: Iterable<WarmingEndpoint>, warmup: WarmupConfig | undefined, now: number): void {
    const seen = new Set<string>();
    let anyReady = false;
    for (const e of endpoints) {
      if (!e.ready) continue;
      anyReady = true;
      seen.add(e.key);
      if (!this.#joined.has(e.key)) this.#joined.set(e.key, this.#primed ? now : Number.NEGATIVE_INFINITY);
    }
    for (const key of this.#joined.keys()) if (!seen.has(key)) this.#joined.delete(key);
    if (anyReady) this.#primed = true;

    let warming = false;
    for (const e of endpoints) {
      const joined = this.#joined.get(e.key);
      e.warmth = warmup === undefined || joined === undefined ? 1 : warmupFactor(now - joined, warmup);
      if (e.warmth < 1) warming = true;
    }
    this.#schedule(warming ? warmup : undefined, now);
  }

  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(warmup: WarmupConfig | undefined, now: number): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (warmup === undefined) return;
    let step = Math.min(MAX_STEP_MS, Math.max(MIN_STEP_MS, warmup.duration / STEPS_PER_WINDOW));
    // Land exactly on the end of the soonest window, so a ramp finishes at full weight on time.
    for (const joined of this.#joined.values()) {
      const left = joined + warmup.duration - now;
      if (left > 0 && left < step) step = left;
    }
    this.#timer = setTimeout(this.#step, step);
    // The ramp must never keep a process alive on its own.
    this.#timer.unref?.();
  }
}
