/**
 * Golden signals per route, on the inbound side: traffic, errors and
 * latency labelled by the route *template* the framework matched
 * (`/users/:id`), plus saturation (requests in flight) and what load
 * shedding refused. Istio's metrics cannot carry this: a sidecar sees raw
 * paths only, and a raw path is unbounded. Requests no route matched share
 * one fixed label, so cardinality is bounded by the application's routes.
 *
 * Label children are cached per (route, method, code), so a request costs
 * one Map lookup, an increment and a histogram observation.
 */
import { Counter, Gauge, Histogram } from 'prom-client';
import type { AnyRegistry } from '../telemetry/metrics/any-registry.js';
import { ISTIO_DURATION_BUCKETS_MS } from '../telemetry/metrics/istio-labels.js';
import { LabelCap } from '../telemetry/metrics/label-cap.js';
import { overflowCounter } from '../telemetry/metrics/overflow-counter.js';

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

const MAX_CACHED = 2_000;

type RequestLabel = 'route' | 'method' | 'response_code';

interface Series {
  readonly count: Counter.Internal;
  readonly duration: Histogram.Internal<'route' | 'method'>;
}

export class RouteMetrics {
  readonly #requests: Counter<RequestLabel>;
  readonly #duration: Histogram<'route' | 'method'>;
  readonly #shed: Counter<'reason'>;
  readonly #cap: LabelCap<RequestLabel>;
  readonly #series = new Map<string, Series>();

  constructor(registry: AnyRegistry, inFlight: () => number) {
    const overflow = overflowCounter(registry);
    this.#cap = new LabelCap(ROUTE_METRIC_NAMES.requests, ['route', 'method', 'response_code'], overflow);
    this.#requests = new Counter({
      name: ROUTE_METRIC_NAMES.requests,
      help: 'Inbound requests by route template, method and response code.',
      labelNames: ['route', 'method', 'response_code'],
      registers: [registry],
    });
    this.#duration = new Histogram({
      name: ROUTE_METRIC_NAMES.duration,
      help: 'Inbound request duration in milliseconds by route template and method.',
      labelNames: ['route', 'method'],
      buckets: [...ISTIO_DURATION_BUCKETS_MS],
      registers: [registry],
    });
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
    const key = `${route}\u0000${m}\u0000${status}`;
    let s = this.#series.get(key);
    if (s === undefined) {
      const labels = this.#cap.admit({ route, method: m, response_code: String(status) });
      s = { count: this.#requests.labels(labels), duration: this.#duration.labels({ route: labels.route, method: labels.method }) };
      // Past the cap the key space is a bug's; stop caching rather than grow.
      if (this.#series.size < MAX_CACHED) this.#series.set(key, s);
    }
    s.count.inc();
    s.duration.observe(durationMs);
  }

  shed(reason: ShedReason): void {
    this.#shed.inc({ reason });
  }
}
