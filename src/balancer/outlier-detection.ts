/**
 * Outlier detection with Envoy's semantics: passive health checking from the
 * results of real traffic, one detector per endpoint set.
 *
 * - Consecutive errors eject inline, on the result that reaches the
 *   threshold; a success resets both counters.
 * - At each interval the detector returns endpoints whose time is up, runs
 *   the success-rate and failure-percentage tests over the interval's
 *   counts, and lets the ejection multiplier of endpoints back in service
 *   decay by one.
 * - An ejection lasts base × multiplier, capped at the maximum, so an
 *   endpoint that keeps failing stays out longer each time.
 * - maxEjectionPercent bounds how much of the set may be out at once, as in
 *   Envoy since 1.31: an ejection happens only if the ejected share,
 *   counting the new one, stays within the limit (so 10% of fewer than ten
 *   endpoints ejects nothing), unless alwaysEjectOneHost lets the first one
 *   through regardless.
 *
 * Ejection only marks the state; the caller reads `state.ejected` when it
 * builds pickers, which already skip unhealthy endpoints (and use them all
 * again in panic mode, as Envoy does with ejected hosts).
 */
import { monotonicNow } from '../net/monotonic-clock.js';
import {
  type FailurePercentageRule,
  failurePercentageOutliers,
  type OutlierResult,
  OutlierState,
  type SuccessRateRule,
  successRateOutliers,
} from './outlier-stats.js';

export { type OutlierResult, OutlierState } from './outlier-stats.js';

export interface OutlierConfig {
  /** 5xx responses and local failures in a row that eject; 0 disables. */
  consecutive5xxErrors: number;
  /** 502/503/504 responses and local failures in a row that eject; 0 disables. */
  consecutiveGatewayErrors: number;
  /** Period of the statistical sweep and of the multiplier's decay, ms. */
  intervalMs: number;
  /** An ejection lasts this × the multiplier, ms. */
  baseEjectionTimeMs: number;
  /** Cap on one ejection, ms; never below the base. */
  maxEjectionTimeMs: number;
  /** Percent of the set that may be ejected at once, 0 to 100. */
  maxEjectionPercent: number;
  /** Envoy's always_eject_one_host: allow one ejection even when maxEjectionPercent would not. */
  alwaysEjectOneHost?: boolean;
  /** undefined disables the success-rate test. */
  successRate?: SuccessRateRule;
  /** undefined disables the failure-percentage test. */
  failurePercentage?: FailurePercentageRule;
}

export type { FailurePercentageRule, SuccessRateRule };

/**
 * Envoy's defaults except two, because detection is on by default here and
 * most services run two to five replicas: Envoy's 10% would never let one of
 * three be ejected. 50% ejects one of two or three (never more than half),
 * and one host may always go, so a crashed replica leaves the pickers
 * whatever the service's size. Locality's panic threshold still guards the
 * case where most endpoints look bad.
 */
export const DEFAULT_OUTLIER: OutlierConfig = Object.freeze({
  consecutive5xxErrors: 5,
  consecutiveGatewayErrors: 5,
  intervalMs: 10_000,
  baseEjectionTimeMs: 30_000,
  maxEjectionTimeMs: 300_000,
  maxEjectionPercent: 50,
  alwaysEjectOneHost: true,
});

/** Envoy's defaults for a success-rate block that leaves fields out. */
export const DEFAULT_SUCCESS_RATE: SuccessRateRule = Object.freeze({ minimumHosts: 5, requestVolume: 100, stdevFactor: 1900 });

/** Envoy's defaults for a failure-percentage block that leaves fields out. */
export const DEFAULT_FAILURE_PERCENTAGE: FailurePercentageRule = Object.freeze({
  threshold: 85,
  minimumHosts: 5,
  requestVolume: 50,
});

export type EjectionReason = 'consecutive-5xx' | 'consecutive-gateway' | 'success-rate' | 'failure-percentage';

export interface OutlierHooks {
  /** ms; default the mesh's monotonic clock */
  now?: () => number;
  /**
   * The set of ejected endpoints changed (ejection or return): the caller
   * rebuilds pickers. Called from a timer, or from a microtask after an
   * inline ejection, never inside record().
   */
  onChange(): void;
  onEject?(key: string, reason: EjectionReason, untilMs: number): void;
  onReturn?(key: string): void;
}

export class OutlierDetector {
  #config!: OutlierConfig;
  // Disabled thresholds become Infinity so record() needs one comparison each.
  #limit5xx = Number.POSITIVE_INFINITY;
  #limitGateway = Number.POSITIVE_INFINITY;
  readonly #hooks: OutlierHooks;
  readonly #now: () => number;
  #states = new Map<string, OutlierState>();
  #ejected = 0;
  #interval: ReturnType<typeof setInterval> | undefined;
  #changePending = false;
  #closed = false;

  constructor(config: OutlierConfig, hooks: OutlierHooks) {
    this.#hooks = hooks;
    this.#now = hooks.now ?? monotonicNow;
    this.configure(config);
  }

  get ejectedCount(): number {
    return this.#ejected;
  }

  /**
   * The live endpoint set (call on every change). Keys that stay keep their
   * state; keys that left lose it and any pending return. Removing an
   * ejected key does not call onChange: the caller is rebuilding anyway.
   */
  track(keys: readonly string[]): ReadonlyMap<string, OutlierState> {
    const next = new Map<string, OutlierState>();
    for (const key of keys) {
      if (!next.has(key)) next.set(key, this.#states.get(key) ?? new OutlierState(key, !this.#closed));
    }
    for (const [key, state] of this.#states) {
      if (next.get(key) !== state) this.#forget(state);
    }
    // A fresh map each time, so a map handed out earlier never changes under its holder.
    this.#states = next;
    this.#syncInterval();
    return next;
  }

  state(key: string): OutlierState | undefined {
    return this.#states.get(key);
  }

  /** Hot path: counter updates only, unless this result ejects. */
  record(state: OutlierState, result: OutlierResult): void {
    // While ejected, results come only from attempts already in flight (or
    // from panic-mode picks); the return resets the counters anyway.
    if (!state.tracked || state.ejected) return;
    state.requests++;
    if (result === 'success') {
      state.successes++;
      state.consecutive5xx = 0;
      state.consecutiveGateway = 0;
      return;
    }
    // Envoy: a 5xx that is not a gateway error breaks a gateway run.
    if (result === 'http-5xx') state.consecutiveGateway = 0;
    else if (++state.consecutiveGateway >= this.#limitGateway) {
      state.consecutiveGateway = 0;
      if (this.#eject(state, 'consecutive-gateway')) {
        this.#changeSoon();
        return;
      }
    }
    if (++state.consecutive5xx >= this.#limit5xx) {
      // Reset even when maxEjectionPercent refuses, as Envoy does: the
      // endpoint needs a fresh run of errors to be considered again.
      state.consecutive5xx = 0;
      if (this.#eject(state, 'consecutive-5xx')) this.#changeSoon();
    }
  }

  /** New settings apply to later results and sweeps; current ejections keep their end time. */
  configure(config: OutlierConfig): void {
    const intervalChanged = this.#config !== undefined && this.#config.intervalMs !== config.intervalMs;
    this.#config = config;
    this.#limit5xx = config.consecutive5xxErrors > 0 ? config.consecutive5xxErrors : Number.POSITIVE_INFINITY;
    this.#limitGateway =
      config.consecutiveGatewayErrors > 0 ? config.consecutiveGatewayErrors : Number.POSITIVE_INFINITY;
    if (intervalChanged && this.#interval !== undefined) {
      clearInterval(this.#interval);
      this.#interval = undefined;
      this.#syncInterval();
    }
  }

  /**
   * Stops the interval and every return timer. Ejected endpoints are put
   * back in service without hooks, so endpoints kept after detection is
   * switched off are not stuck out; rebuild pickers if you keep them.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#interval !== undefined) clearInterval(this.#interval);
    this.#interval = undefined;
    for (const state of this.#states.values()) this.#forget(state);
  }

  #forget(state: OutlierState): void {
    state.tracked = false;
    if (state.ejected) {
      this.#ejected--;
      state.markReturned(this.#now());
    }
  }

  #syncInterval(): void {
    if (this.#states.size > 0 && !this.#closed) {
      if (this.#interval === undefined) {
        this.#interval = setInterval(() => this.#sweep(), this.#config.intervalMs);
        this.#interval.unref();
      }
    } else if (this.#interval !== undefined) {
      clearInterval(this.#interval);
      this.#interval = undefined;
    }
  }

  /** Envoy's ejectHost: the maxEjectionPercent check, then the ejection and its return timer. */
  #eject(state: OutlierState, reason: EjectionReason): boolean {
    const cfg = this.#config;
    const total = this.#states.size;
    // Integer form of (ejected + 1) / total × 100 <= max, free of rounding.
    const withinLimit = (this.#ejected + 1) * 100 <= cfg.maxEjectionPercent * total;
    if (!withinLimit && !(cfg.alwaysEjectOneHost === true && this.#ejected === 0)) return false;
    const base = cfg.baseEjectionTimeMs;
    const max = Math.max(cfg.maxEjectionTimeMs, base);
    // Envoy stops raising the multiplier one step past the cap, so a
    // flapping endpoint stays at the cap yet decays back within a few intervals.
    if (state.timesEjected * base < max + base) state.timesEjected++;
    const duration = Math.min(base * state.timesEjected, max);
    state.ejectedUntil = this.#now() + duration;
    this.#ejected++;
    state.returnTimer = setTimeout(() => this.#returnFromTimer(state), duration);
    state.returnTimer.unref();
    this.#hooks.onEject?.(state.key, reason, state.ejectedUntil);
    return true;
  }

  #returnFromTimer(state: OutlierState): void {
    state.returnTimer = undefined;
    if (!state.tracked || !state.ejected) return;
    this.#return(state, this.#now());
    this.#hooks.onChange();
  }

  #return(state: OutlierState, now: number): void {
    state.markReturned(now);
    this.#ejected--;
    this.#hooks.onReturn?.(state.key);
  }

  /** Envoy's onIntervalTimer: returns, then the statistical tests, then decay. */
  #sweep(): void {
    const now = this.#now();
    const cfg = this.#config;
    let changed = false;
    const inService: OutlierState[] = [];
    for (const state of this.#states.values()) {
      // A return timer due at this same instant may not have run yet.
      if (state.ejected && state.ejectedUntil <= now) {
        this.#return(state, now);
        changed = true;
      }
      if (!state.ejected) inService.push(state);
    }
    if (cfg.successRate !== undefined) {
      for (const state of successRateOutliers(inService, cfg.successRate)) {
        if (this.#eject(state, 'success-rate')) changed = true;
      }
    }
    if (cfg.failurePercentage !== undefined) {
      for (const state of failurePercentageOutliers(inService, cfg.failurePercentage)) {
        // The success-rate test may have ejected it a moment ago.
        if (!state.ejected && this.#eject(state, 'failure-percentage')) changed = true;
      }
    }
    for (const state of this.#states.values()) {
      // Decay only after a whole interval back in service, as Envoy does.
      if (!state.ejected && state.timesEjected > 0 && now - state.returnedAt >= cfg.intervalMs) {
        state.timesEjected--;
      }
      state.requests = 0;
      state.successes = 0;
    }
    if (changed) this.#hooks.onChange();
  }

  readonly #flushChange = (): void => {
    this.#changePending = false;
    if (!this.#closed) this.#hooks.onChange();
  };

  /** onChange after an inline ejection, out of record()'s stack; several ejections in one tick make one call. */
  #changeSoon(): void {
    if (this.#changePending) return;
    this.#changePending = true;
    queueMicrotask(this.#flushChange);
  }
}
