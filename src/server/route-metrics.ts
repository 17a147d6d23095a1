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

/** The method labels, by slot: anything outside the fixed set is `other`, the last slot. */
const METHOD_LABELS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'CONNECT', 'TRACE', 'other'] as const;
const OTHER_METHOD = METHOD_LABELS.length - 1;

/**
 * A method's slot in METHOD_LABELS. A switch, not a Set: the method strings
 * node's parser hands out are the same constant strings, so the common case
 * is one pointer comparison instead of a hash lookup.
 */
function methodSlot(method: string): number {
  switch (method) {
    case 'GET':
      return 0;
    case 'HEAD':
      return 1;
    case 'POST':
      return 2;
    case 'PUT':
      return 3;
    case 'DELETE':
      return 4;
    case 'PATCH':
      return 5;
    case 'OPTIONS':
      return 6;
    case 'CONNECT':
      return 7;
    case 'TRACE':
      return 8;
    default:
      return OTHER_METHOD;
  }
}

/** A method label from a small fixed set: anything else is `other`. */
export function methodLabel(method: string): string {
  return METHOD_LABELS[methodSlot(method)]!;
}

/** The code slot of requests folded into overflow (past the label-set cap). */
const OVERFLOW_CODE = -1;
const DURATION_BOUNDS = Float64Array.from(ISTIO_DURATION_BUCKETS_MS);

/** One (route, method, code) label set's request count, incremented in place: no Map write per request. */
class CodeCount {
  n = 0;
  constructor(readonly series: RouteSeries) {}
}

/**
 * One (route, method) pair's numbers: its duration histogram, and its
 * request counts by response code. Plain numbers and typed arrays, as the
 * Istio series are; the views below read them only when scraped.
 */
class RouteSeries implements LabelledSeries {
  readonly labels: Readonly<Record<'route' | 'method', string>>;
  readonly duration = new HistogramCells(DURATION_BOUNDS);
  readonly codes = new Map<number, CodeCount>();

  constructor(route: string, method: string) {
    this.labels = Object.freeze({ route, method });
  }
}

/** One route's series: by method slot for recording, and in the order they were made for scrapes. */
class RouteRow {
  readonly bySlot: (RouteSeries | undefined)[] = new Array<RouteSeries | undefined>(METHOD_LABELS.length).fill(undefined);
  readonly series: RouteSeries[] = [];
}

/** The row of a route not seen yet: every slot empty, never written. */
const NO_ROW = new RouteRow();

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
    for (const [code, count] of series.codes) {
      let labels = byCode.get(code);
      if (labels === undefined) {
        labels = Object.freeze({ ...series.labels, response_code: code === OVERFLOW_CODE ? OVERFLOW_LABEL : String(code) });
        byCode.set(code, labels);
      }
      into.push({ value: count.n, labels: labels as Record<string, string> });
    }
  }
}

/**
 * Recording a request is a switch on the method, three comparisons when it
 * repeats the last request's route, method and code (else a lookup by route,
 * skipped when the route repeats, and one by code), an addition and a bucket
 * scan, with nothing allocated once its route, method and code have been
 * seen. prom-client's labelled children hash every label value on
 * each inc and observe instead, which cost more than the rest of the
 * per-route work.
 */
export class RouteMetrics {
  readonly #shed: Counter<'reason'>;
  readonly #cap: LabelCap<RequestLabel>;
  readonly #routes = new Map<string, RouteRow>();
  #overflow: RouteSeries | undefined;
  /** The last route found and its row: most requests repeat a route (one, without a router). */
  #lastRoute: string | undefined;
  #lastRow = NO_ROW;
  /** The last (route, method slot, code) recorded and its count: a repeat is three comparisons, no lookup. */
  #lastCountRoute: string | undefined;
  #lastSlot = -1;
  #lastStatus = Number.NaN;
  #lastCount: CodeCount | undefined;

  constructor(registry: AnyRegistry, inFlight: () => number) {
    const overflow = overflowCounter(registry);
    this.#cap = new LabelCap(ROUTE_METRIC_NAMES.requests, ['route', 'method', 'response_code'], overflow);
    const source: SeriesSource<RouteSeries> = {
      series: () => this.#allSeries(),
      reset: () => {
        this.#routes.clear();
        this.#overflow = undefined;
        this.#lastRoute = undefined;
        this.#lastRow = NO_ROW;
        this.#lastCountRoute = undefined;
        this.#lastCount = undefined;
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
    const slot = methodSlot(method);
    let count = this.#lastCount;
    if (route !== this.#lastCountRoute || slot !== this.#lastSlot || status !== this.#lastStatus || count === undefined) {
      count = (route === this.#lastRoute ? this.#lastRow : this.#row(route)).bySlot[slot]?.codes.get(status);
      if (count === undefined) {
        this.#recordNew(route, slot, status, durationMs);
        return;
      }
      this.#lastCountRoute = route;
      this.#lastSlot = slot;
      this.#lastStatus = status;
      this.#lastCount = count;
    }
    count.n++;
    count.series.duration.observe(durationMs);
  }

  /** The route's row, remembered for the next request; rows are made with their first series. */
  #row(route: string): RouteRow {
    const row = this.#routes.get(route);
    if (row === undefined) return NO_ROW;
    this.#lastRoute = route;
    this.#lastRow = row;
    return row;
  }

  /** First sight of this (route, method, code): admitted under the cap, or folded into overflow. */
  #recordNew(route: string, slot: number, status: number, durationMs: number): void {
    const method = METHOD_LABELS[slot]!;
    const labels = this.#cap.admit({ route, method, response_code: String(status) });
    let series: RouteSeries;
    if (labels.route !== route) {
      // Past the cap: counted (above), and recorded under the one overflow series.
      series = this.#overflow ??= new RouteSeries(OVERFLOW_LABEL, OVERFLOW_LABEL);
      status = OVERFLOW_CODE;
    } else {
      series = this.#series(route, slot);
    }
    let count = series.codes.get(status);
    if (count === undefined) {
      count = new CodeCount(series);
      series.codes.set(status, count);
    }
    count.n++;
    series.duration.observe(durationMs);
  }

  #series(route: string, slot: number): RouteSeries {
    let row = this.#routes.get(route);
    if (row === undefined) {
      row = new RouteRow();
      this.#routes.set(route, row);
    }
    let series = row.bySlot[slot];
    if (series === undefined) {
      series = new RouteSeries(route, METHOD_LABELS[slot]!);
      row.bySlot[slot] = series;
      row.series.push(series);
    }
    return series;
  }

  *#allSeries(): Iterable<RouteSeries> {
    for (const row of this.#routes.values()) yield* row.series;
    if (this.#overflow !== undefined) yield this.#overflow;
  }

  shed(reason: ShedReason): void {
    this.#shed.inc({ reason });
  }
}
