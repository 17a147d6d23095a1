/**
 * The per-endpoint half of outlier detection: the counters one endpoint's
 * results feed, and the two statistical tests Envoy runs over a whole
 * endpoint set at each interval (success rate against the set's mean, and
 * failure percentage against a fixed threshold).
 */

/**
 * One finished attempt as outlier detection sees it. Local failures count
 * toward both consecutive counters, as in Envoy with
 * split_external_local_origin_errors off: it maps a connect failure to 503
 * and a timeout to 504, both gateway errors.
 */
export type OutlierResult = 'success' | 'http-5xx' | 'gateway' | 'local-failure';

export interface SuccessRateRule {
  readonly minimumHosts: number;
  readonly requestVolume: number;
  /** Thousandths of a standard deviation, as in Envoy: 1900 means 1.9. */
  readonly stdevFactor: number;
}

export interface FailurePercentageRule {
  /** Percent, 0 to 100; a host failing this share of its requests or more is an outlier. */
  readonly threshold: number;
  readonly minimumHosts: number;
  readonly requestVolume: number;
}

const NOT_EJECTED = -1;

/**
 * Everything the detector knows about one endpoint. The caller keeps it on
 * its endpoint object; only the detector writes it. Plain number fields, so
 * recording a result is a few increments on a monomorphic object.
 */
export class OutlierState {
  readonly key: string;
  consecutive5xx = 0;
  consecutiveGateway = 0;
  /** Attempts and successes since the last interval sweep. */
  requests = 0;
  successes = 0;
  /**
   * Envoy's ejection-time multiplier: up by one at each ejection, down by one
   * for each interval the endpoint spends back in service.
   */
  timesEjected = 0;
  /** When the current ejection ends, on the detector's clock (ms); -1 when in service. */
  ejectedUntil = NOT_EJECTED;
  /** When it last came back from an ejection; -Infinity if it never has. */
  returnedAt = Number.NEGATIVE_INFINITY;
  /** False once the endpoint left the tracked set or the detector closed: results are then ignored. */
  tracked = true;
  returnTimer: ReturnType<typeof setTimeout> | undefined = undefined;

  constructor(key: string, tracked = true) {
    this.key = key;
    this.tracked = tracked;
  }

  get ejected(): boolean {
    return this.ejectedUntil !== NOT_EJECTED;
  }

  /** Back in service; the caller has already accounted for the return. */
  markReturned(now: number): void {
    if (this.returnTimer !== undefined) clearTimeout(this.returnTimer);
    this.returnTimer = undefined;
    this.ejectedUntil = NOT_EJECTED;
    this.returnedAt = now;
    // Envoy resets these so a counter left one short of its threshold
    // before the ejection cannot re-eject on the first new error.
    this.consecutive5xx = 0;
    this.consecutiveGateway = 0;
  }
}

function successRate(s: OutlierState): number {
  return (s.successes * 100) / s.requests;
}

/**
 * Envoy's success-rate test over the endpoints in service: among those with
 * at least `requestVolume` attempts this interval, if at least
 * `minimumHosts` qualify, the ones whose success rate is below
 * mean − stdev × factor. The deviation is the population one, as Envoy's.
 */
export function successRateOutliers(candidates: readonly OutlierState[], rule: SuccessRateRule): OutlierState[] {
  const volume = Math.max(1, rule.requestVolume);
  const qualified = candidates.filter((s) => s.requests >= volume);
  if (qualified.length === 0 || qualified.length < rule.minimumHosts) return [];
  let sum = 0;
  for (const s of qualified) sum += successRate(s);
  const mean = sum / qualified.length;
  let variance = 0;
  for (const s of qualified) variance += (successRate(s) - mean) ** 2;
  const stdev = Math.sqrt(variance / qualified.length);
  const threshold = mean - (rule.stdevFactor / 1000) * stdev;
  return qualified.filter((s) => successRate(s) < threshold);
}

/**
 * Envoy's failure-percentage test: among endpoints with at least
 * `requestVolume` attempts this interval, if at least `minimumHosts`
 * qualify, the ones failing `threshold` percent of attempts or more.
 */
export function failurePercentageOutliers(
  candidates: readonly OutlierState[],
  rule: FailurePercentageRule,
): OutlierState[] {
  const volume = Math.max(1, rule.requestVolume);
  const qualified = candidates.filter((s) => s.requests >= volume);
  if (qualified.length === 0 || qualified.length < rule.minimumHosts) return [];
  return qualified.filter((s) => 100 - successRate(s) >= rule.threshold);
}
