/**
 * A service-level circuit breaker: closed → open → half-open → closed.
 *
 * Why not opossum (the guideline says "opossum where it fits"): opossum's
 * only way in is `breaker.fire(...args)`, which wraps the action in a new
 * Promise, arms a `setTimeout` for its own timeout (unless `timeout: false`),
 * and learns the outcome from that promise settling, through EventEmitter
 * events per call. Our dispatch path knows the outcome when the response
 * headers arrive and the classifier has judged them, while the body is still
 * streaming, and it may not create a Promise or timer per call. To use
 * opossum we would have to build a deferred promise per call and resolve it
 * from the classifier: a Promise, two closures and several events per
 * request, for state we can keep in a few counters. It also has no way to
 * hand back a half-open probe slot for a call the caller aborted (no verdict),
 * lets only one probe through rather than `halfOpenRequests`, and its rolling
 * window rotates on a `setInterval` per breaker. So the breaker is written
 * here: admission and outcome are separate plain calls, windows roll lazily
 * from the clock, and open → half-open is computed on read (no timer). It
 * would fit a promise-shaped, low-rate call such as a JWKS or token fetch.
 */
import { monotonicNow } from '../net/monotonic-clock.js';
import { RollingCounts } from './rolling-counts.js';

export interface CircuitBreakerConfig {
  /** Open when at least this percentage of the window's calls failed (0–100). */
  errorThresholdPercentage: number;
  /** ...and the window holds at least this many calls. */
  minimumRequests: number;
  /** Length of the rolling window in ms. */
  windowMs: number;
  /** How long to fail fast before letting probes through. */
  openMs: number;
  /** Probes let through at once in half-open; this many successes close the circuit. */
  halfOpenRequests: number;
}

export type CircuitState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerHooks {
  now?: () => number;
  /** Called synchronously after the state changed. */
  onStateChange?: (from: CircuitState, to: CircuitState) => void;
}

export const CIRCUIT_BUCKETS = 10;


export class CircuitBreaker {
  readonly #now: () => number;
  readonly #onStateChange: ((from: CircuitState, to: CircuitState) => void) | undefined;
  /** a: calls with a verdict, b: failures among them. */
  readonly #window: RollingCounts;
  #config!: CircuitBreakerConfig;
  #state: CircuitState = 'closed';
  #openedAt = 0;
  /** Half-open: probes admitted and still out. */
  #probes = 0;
  /** Half-open: probes that succeeded. */
  #probeSuccesses = 0;

  constructor(config: CircuitBreakerConfig, hooks: CircuitBreakerHooks = {}) {
    this.#now = hooks.now ?? monotonicNow;
    this.#onStateChange = hooks.onStateChange;
    this.#window = new RollingCounts(config.windowMs, CIRCUIT_BUCKETS);
    this.configure(config);
  }

  /** The state now; an open circuit whose `openMs` has passed reads (and becomes) half-open. */
  get state(): CircuitState {
    if (this.#state === 'open' && this.#now() - this.#openedAt >= this.#config.openMs) {
      this.#probes = 0;
      this.#probeSuccesses = 0;
      this.#transition('half-open');
    }
    return this.#state;
  }

  /** Calls and failures in the current window (for status views and tests). */
  get windowCounts(): { readonly requests: number; readonly failures: number } {
    const w = this.#window;
    w.roll(this.#now());
    return { requests: w.a, failures: w.b };
  }

  /** True if a call may proceed; in half-open, only `halfOpenRequests` probes at a time. */
  tryAcquire(): boolean {
    switch (this.state) {
      case 'closed':
        return true;
      case 'open':
        return false;
      default:
        if (this.#probes >= this.#config.halfOpenRequests) return false;
        this.#probes++;
        return true;
    }
  }

  /**
   * An admitted call succeeded. In half-open it counts as a probe success
   * (a call admitted before the circuit opened that succeeds late is just
   * as good evidence the service is back).
   */
  onSuccess(): void {
    switch (this.state) {
      case 'closed': {
        const w = this.#window;
        w.roll(this.#now());
        w.add(1, 0);
        return;
      }
      case 'open':
        // A straggler admitted before the circuit opened: the open period stands.
        return;
      default:
        if (this.#probes > 0) this.#probes--;
        if (++this.#probeSuccesses >= this.#config.halfOpenRequests) {
          this.#window.clear();
          this.#transition('closed');
        }
    }
  }

  /** An admitted call failed. In half-open any failure opens the circuit again for `openMs`. */
  onFailure(): void {
    switch (this.state) {
      case 'closed': {
        const w = this.#window;
        w.roll(this.#now());
        w.add(1, 1);
        if (this.#shouldTrip()) this.#open();
        return;
      }
      case 'open':
        return;
      default:
        this.#open();
    }
  }

  /** An admitted call ended without a verdict (the caller gave up): frees a half-open probe slot, counts nothing. */
  release(): void {
    if (this.#state === 'half-open' && this.#probes > 0) this.#probes--;
  }

  /** Thresholds apply from the next outcome; a new window length starts an empty window. The state stays. */
  configure(config: CircuitBreakerConfig): void {
    this.#config = { ...config };
    this.#window.setSpan(config.windowMs);
  }

  #shouldTrip(): boolean {
    const c = this.#config;
    const w = this.#window;
    return w.a >= c.minimumRequests && w.b * 100 >= c.errorThresholdPercentage * w.a;
  }

  #open(): void {
    this.#openedAt = this.#now();
    this.#probes = 0;
    this.#probeSuccesses = 0;
    this.#transition('open');
  }

  #transition(to: CircuitState): void {
    const from = this.#state;
    if (from === to) return;
    this.#state = to;
    this.#onStateChange?.(from, to);
  }
}
