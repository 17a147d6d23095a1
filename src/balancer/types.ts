/**
 * What a picker needs to know about an endpoint, and nothing more.
 *
 * Pickers are immutable snapshots built from one endpoint set; they read the
 * live counters (`inFlight`, `latencyCost`) that the endpoint tier updates, so
 * a picker never needs rebuilding for load changes, only for set changes.
 */

export interface BalancedEndpoint {
  readonly key: string;
  /**
   * Relative weight, more than 0: discovery's (1 to 1,000,000), scaled down
   * while the endpoint warms up (`loadBalancer.warmup`, built-in policies only).
   */
  readonly weight: number;
  /** Requests currently outstanding on this endpoint. */
  readonly inFlight: number;
  /**
   * Peak-EWMA latency estimate in milliseconds at `now` (performance.now()),
   * or 0 when no response has been observed yet.
   */
  latencyCost(now: number): number;
}

export interface Picker<E extends BalancedEndpoint = BalancedEndpoint> {
  /** Number of endpoints this picker can return. */
  readonly size: number;
  /**
   * Pick an endpoint. `hash` is the request's 32-bit unsigned hash for
   * consistent-hash policies (ring-hash, maglev); other policies ignore it,
   * and hash policies fall back to a random pick when it is undefined.
   * Returns undefined only when the picker is empty.
   */
  pick(hash?: number): E | undefined;
}

export interface PickerOptions {
  /** ring-hash: minimum and maximum ring entries. */
  readonly ringMin?: number;
  readonly ringMax?: number;
  /** maglev: lookup table size (a prime). */
  readonly tableSize?: number;
  /**
   * A custom policy's own settings: `loadBalancer.config` in the mesh's
   * config, or the JSON config of the policy's TypedStruct when xDS selects
   * it (gRFC A52). Undefined when none is set; built-in policies never get one.
   */
  readonly config?: Readonly<Record<string, unknown>>;
  /** Source of randomness in [0, 1); tests pass a seeded one. */
  readonly random?: () => number;
}

export type PickerFactory = <E extends BalancedEndpoint>(
  endpoints: readonly E[],
  options: PickerOptions,
) => Picker<E>;
