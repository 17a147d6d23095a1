/**
 * Istio's standard request metrics, filled from RequestRecords:
 * `istio_requests_total`, `istio_request_duration_milliseconds`,
 * `istio_request_bytes` and `istio_response_bytes`, with Istio's full label
 * set, so Istio's Grafana dashboards and Kiali read them unchanged.
 *
 * record() runs once per request: a lookup by two numbers (series-index.ts)
 * and a few additions. Label objects are built once per label set, and
 * prom-client sees the numbers only at scrape time (scrape-views.ts).
 *
 * Cardinality is capped at `maxSeries` label sets; past it, new sets fold
 * into `response_code`-only overflow series, counted in
 * `proxyless_metrics_label_overflow_total{metric="istio_requests_total"}`.
 */
import { Registry } from 'prom-client';
import type { RequestRecord } from '../request-record.js';
import type { AnyRegistry } from './any-registry.js';
import { ISTIO_BYTES_BUCKETS, ISTIO_DURATION_BUCKETS_MS, ISTIO_METRIC_NAMES } from './istio-labels.js';
import { overflowCounter } from './overflow-counter.js';
import { CounterView, HistogramView, type SeriesSource } from './scrape-views.js';
import { SeriesIndex } from './series-index.js';

export const DEFAULT_MAX_SERIES = 10_000;

export interface IstioMetricsOptions {
  /**
   * Where the metrics are registered. Default: a new Registry owned by this
   * instance, never prom-client's global `register`, so two meshes in one
   * process do not collide. One IstioMetrics per registry.
   */
  registry?: AnyRegistry;
  /** Istio's names are fixed so dashboards find them: there is no prefix option. */
  prefix?: never;
  /** Cap on distinct label sets before folding into overflow series (default 10,000). */
  maxSeries?: number;
}

export class IstioMetrics {
  readonly registry: AnyRegistry;
  readonly #index: SeriesIndex;

  constructor(opts: IstioMetricsOptions = {}) {
    this.registry = opts.registry ?? new Registry();
    const max = Math.max(1, Math.floor(opts.maxSeries ?? DEFAULT_MAX_SERIES));
    const folded = overflowCounter(this.registry).labels({ metric: ISTIO_METRIC_NAMES.requests });
    const index = new SeriesIndex(max, () => folded.inc());
    this.#index = index;

    const source: SeriesSource = { series: () => index.series(), reset: () => index.clear() };
    const views = [
      new CounterView(ISTIO_METRIC_NAMES.requests, 'Requests handled, as Istio counts them.', source),
      new HistogramView(
        ISTIO_METRIC_NAMES.duration,
        'Request duration in milliseconds, from the start of the request to the end of the response.',
        source,
        ISTIO_DURATION_BUCKETS_MS,
        (s) => s.duration,
      ),
      new HistogramView(ISTIO_METRIC_NAMES.requestBytes, 'Request body size in bytes.', source, ISTIO_BYTES_BUCKETS, (s) => s.requestBytes),
      new HistogramView(ISTIO_METRIC_NAMES.responseBytes, 'Response body size in bytes.', source, ISTIO_BYTES_BUCKETS, (s) => s.responseBytes),
    ];
    for (const v of views) v.registerIn(this.registry);
  }

  /** Counts one finished request. */
  record(r: RequestRecord): void {
    this.#index.get(r).record(r.durationMs, r.requestBytes, r.responseBytes);
  }

  /** Distinct label sets held, overflow series included. */
  get seriesCount(): number {
    return this.#index.size;
  }
}
