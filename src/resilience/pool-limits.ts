/**
 * Connection-pool limits for one destination, Istio's `connectionPool`
 * (Envoy's cluster circuit-breaker thresholds): how many requests may be
 * active, queued for a connection, or retrying at once. Past a limit a call
 * fails fast with MESH_OVERFLOW instead of piling onto a backend that is
 * already behind. Plain counters: admission and release are the whole cost.
 */

export interface PoolLimitsConfig {
  /** Requests waiting for a connection. Undefined: unlimited. */
  maxPendingRequests?: number | undefined;
  /** Requests in flight. Undefined: unlimited. */
  maxRequests?: number | undefined;
  /** Retries in flight. Undefined: unlimited. */
  maxRetries?: number | undefined;
}

export class PoolLimits {
  /** Live counters; read them, change them only through the methods below. */
  pending = 0;
  active = 0;
  retries = 0;
  #maxPending = Number.POSITIVE_INFINITY;
  #maxRequests = Number.POSITIVE_INFINITY;
  #maxRetries = Number.POSITIVE_INFINITY;

  constructor(cfg: PoolLimitsConfig) {
    this.configure(cfg);
  }

  tryAdmitRequest(): boolean {
    if (this.active >= this.#maxRequests) return false;
    this.active++;
    return true;
  }

  endRequest(): void {
    // Clamped: one extra end must not open a permanent hole under the limit.
    if (this.active > 0) this.active--;
  }

  tryAdmitPending(): boolean {
    if (this.pending >= this.#maxPending) return false;
    this.pending++;
    return true;
  }

  endPending(): void {
    if (this.pending > 0) this.pending--;
  }

  tryAdmitRetry(): boolean {
    if (this.retries >= this.#maxRetries) return false;
    this.retries++;
    return true;
  }

  endRetry(): void {
    if (this.retries > 0) this.retries--;
  }

  /** New limits apply to the next admission; calls already admitted keep running. */
  configure(cfg: PoolLimitsConfig): void {
    this.#maxPending = cfg.maxPendingRequests ?? Number.POSITIVE_INFINITY;
    this.#maxRequests = cfg.maxRequests ?? Number.POSITIVE_INFINITY;
    this.#maxRetries = cfg.maxRetries ?? Number.POSITIVE_INFINITY;
  }
}
