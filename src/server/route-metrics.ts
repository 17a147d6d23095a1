/**
 * Golden signals per route, on the inbound side: traffic, errors and
 * latency labelled by the route *template* the framework matched
 * (`/users/:id`), plus saturation (requests in flight) and what load
 * shedding refused. Istio's metrics cannot carry this: a sidecar sees raw
 * paths only, and a raw path is unbounded. Requests no route matched share
 * one fixed label, so cardinality is bounded by the application's routes.
 *
 * The numbers live in plain series objects that prom-client reads at
 * scrape time (see RouteMetrics), as the Istio metrics do.
 */
import { Counter, Gauge } from 'prom-client';
import type { AnyRegistry } from '../telemetry/metrics/any-registry.js';
import { ISTIO_DURATION_BUCKETS_MS } from '../telemetry/metrics/istio-labels.js';
import { HistogramCells } from '../telemetry/metrics/istio-series.js';
import { LabelCap } from '../telemetry/metrics/label-cap.js';
import { OVERFLOW_LABEL, overflowCounter } from '../telemetry/metrics/overflow-counter.js';
import { HistogramView, type LabelledSeries, type Sample, ScrapeView, type SeriesSource } from '../telemetry/metrics/scrape-views.js';

type RequestLabel = 'route' | 'method' | 'response_code';

/** The `route` label of a request no route template matched (404s, or a server without a router). */
export const UNMATCHED_ROUTE = 'unmatched';

export const ROUTE_METRIC_NAMES = {
  requests: 'proxyless_inbound_requests_total',
  duration: 'proxyless_inbound_request_duration_milliseconds',
  inFlight: 'proxyless_inbound_requests_in_flight',
  shed: 'proxyless_inbound_shed_total',
} as const;

export type ShedReason = 'concurrency' | 'event-loop' | 'rate-limit';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'CONNECT', 'TRACE']);

/** A method label from a small fixed set: anything else is `other`. */
export function methodLabel(method: string): string {
  return METHODS.has(method) ? method : 'other';
}

/** The code slot of requests folded into overflow (past the label-set cap). */
const OVERFLOW_CODE = -1;
const DURATION_BOUNDS = Float64Array.from(ISTIO_DURATION_BUCKETS_MS);

/**
 * One (route, method) pair's numbers: its duration histogram, and its
 * request counts by response code. Plain numbers and typed arrays, as the
 * Istio series are; the views below read them only when scraped.
 */
class RouteSeries implements LabelledSeries {
  readonly labels: Readonly<Record<'route' | 'method', string>>;
  readonly duration = new HistogramCells(DURATION_BOUNDS);
  readonly codes = new Map<number, number>();

  constructor(route: string, method: string) {
    this.labels = Object.freeze({ route, method });
  }
}

/**
 * `proxyless_inbound_requests_total`: one sample per (series, response
 * code), labelled route, method, response_code in that order (what the
 * prom-client Counter it replaces printed, and what dashboards match on).
 */
class RequestsView extends ScrapeView<RouteSeries> {
  readonly type = 'counter' as const;
  readonly #labels = new WeakMap<RouteSeries, Map<number, Readonly<Record<string, string>>>>();

  protected samples(series: RouteSeries, _shared: boolean, into: Sample[]): void {
    let byCode = this.#labels.get(series);
    if (byCode === undefined) {
      byCode = new Map();
      this.#labels.set(series, byCode);
    }
    for (const [code, n] of series.codes) {
      let labels = byCode.get(code);
      if (labels === undefined) {
        labels = Object.freeze({ ...series.labels, response_code: code === OVERFLOW_CODE ? OVERFLOW_LABEL : String(code) });
        byCode.set(code, labels);
      }
      into.push({ value: n, labels: labels as Record<string, string> });
    }
  }
}

/**
 * Recording a request is two Map lookups, an addition and a bucket scan,
 * with nothing allocated once its route, method and code have been seen.
 * prom-client's labelled children hash every label value on each inc and
 * observe instead, which cost more than the rest of the per-route work.
 */
export class RouteMetrics {
  readonly #shed: Counter<'reason'>;
  readonly #cap: LabelCap<RequestLabel>;
  readonly #routes = new Map<string, Map<string, RouteSeries>>();
  #overflow: RouteSeries | undefined;

  constructor(registry: AnyRegistry, inFlight: () => number) {
    const overflow = overflowCounter(registry);
    this.#cap = new LabelCap(ROUTE_METRIC_NAMES.requests, ['route', 'method', 'response_code'], overflow);
    const source: SeriesSource<RouteSeries> = {
      series: () => this.#allSeries(),
      reset: () => {
        this.#routes.clear();
        this.#overflow = undefined;
      },
    };
    new RequestsView(ROUTE_METRIC_NAMES.requests, 'Inbound requests by route template, method and response code.', source).registerIn(
      registry,
    );
    new HistogramView<RouteSeries>(
      ROUTE_METRIC_NAMES.duration,
      'Inbound request duration in milliseconds by route template and method.',
      source,
      ISTIO_DURATION_BUCKETS_MS,
      (series) => series.duration,
    ).registerIn(registry);
    this.#shed = new Counter({
      name: ROUTE_METRIC_NAMES.shed,
      help: 'Inbound requests refused before their handler ran, by reason (concurrency, event-loop, rate-limit).',
      labelNames: ['reason'],
      registers: [registry],
    });
    const gauge: Gauge = new Gauge({
      name: ROUTE_METRIC_NAMES.inFlight,
      help: 'Inbound requests being handled now.',
      registers: [registry],
      collect: () => gauge.set(inFlight()),
    });
  }

  record(route: string, method: string, status: number, durationMs: number): void {
    const m = methodLabel(method);
    let series = this.#routes.get(route)?.get(m);
    let count = series?.codes.get(status);
    if (series === undefined || count === undefined) {
      const labels = this.#cap.admit({ route, method: m, response_code: String(status) });
      if (labels.route !== route) {
        // Past the cap: counted (above), and recorded under the one overflow series.
        series = this.#overflow ??= new RouteSeries(OVERFLOW_LABEL, OVERFLOW_LABEL);
        status = OVERFLOW_CODE;
      } else {
        series ??= this.#series(route, m);
      }
      count = series.codes.get(status) ?? 0;
    }
    series.codes.set(status, count + 1);
    series.duration.observe(durationMs);
  }

  #series(route: string, method: string): RouteSeries {
    let byMethod = this.#routes.get(route);
    if (byMethod === undefined) {
      byMethod = new Map();
      this.#routes.set(route, byMethod);
    }
    const series = new RouteSeries(route, method);
    byMethod.set(method, series);
    return series;
  }

  *#allSeries(): Iterable<RouteSeries> {
    for (const byMethod of this.#routes.values()) yield* byMethod.values();
    if (this.#overflow !== undefined) yield this.#overflow;
  }

  shed(reason: ShedReason): void {
    this.#shed.inc({ reason });
  }
}
