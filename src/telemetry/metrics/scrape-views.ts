/**
 * prom-client metric objects that read IstioSeries at scrape time.
 *
 * Why not prom-client's own Counter and Histogram: their `.labels()` children
 * rebuild a hash of all 25 label values and re-validate them on every
 * `inc`/`observe` (over 10 µs per request for the four Istio metrics,
 * measured), far over the hot path's budget. A Registry only needs `name`,
 * `help`, `type`, `aggregator`, `get()` and `reset()` from a metric (and uses
 * `getForPromString()` when present, as prom-client's Histogram does), so
 * these views register like any metric: `/metrics`, `getMetricsAsJSON()`,
 * `Registry.merge()` and cluster aggregation all work unchanged.
 */

import type { Metric } from 'prom-client';
import type { AnyRegistry } from './any-registry.js';
import type { HistogramCells, IstioSeries } from './istio-series.js';

/** What a view reads: a label set, shared by every sample the series gives. */
export interface LabelledSeries {
  readonly labels: Readonly<Record<string, string>>;
}

export interface SeriesSource<S extends LabelledSeries = IstioSeries> {
  series(): Iterable<S>;
  reset(): void;
}

export interface Sample {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
  /** Series labels shared by every sample of a series; the Registry caches their text per object. */
  sharedLabels?: Readonly<Record<string, string>>;
}

interface MetricSnapshot {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  aggregator: 'sum';
  values: Sample[];
}

const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});

export abstract class ScrapeView<S extends LabelledSeries = IstioSeries> {
  /** Mutable: a Registry in OpenMetrics mode renames counters (drops `_total`). */
  name: string;
  readonly aggregator = 'sum' as const;
  abstract readonly type: 'counter' | 'histogram';

  constructor(
    name: string,
    readonly help: string,
    protected readonly source: SeriesSource<S>,
  ) {
    this.name = name;
  }

  /** Text exposition: labels shared per series, so each series' label text is built once. */
  async getForPromString(): Promise<MetricSnapshot> {
    return this.snapshot(true);
  }

  /** JSON form, as prom-client's own metrics return it: every sample carries its full labels. */
  async get(): Promise<MetricSnapshot> {
    return this.snapshot(false);
  }

  reset(): void {
    this.source.reset();
  }

  private snapshot(shared: boolean): MetricSnapshot {
    const values: Sample[] = [];
    for (const s of this.source.series()) this.samples(s, shared, values);
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  protected sample(
    value: number,
    labels: Readonly<Record<string, string | number>>,
    series: LabelledSeries,
    shared: boolean,
    metricName?: string,
  ): Sample {
    const out: Sample = shared
      ? { value, labels: labels as Record<string, string | number>, sharedLabels: series.labels }
      : { value, labels: { ...series.labels, ...labels } };
    if (metricName !== undefined) out.metricName = metricName;
    return out;
  }

  protected abstract samples(series: S, shared: boolean, into: Sample[]): void;

  registerIn(registry: AnyRegistry): void {
    // A structural metric, not a prom-client class instance: see the file comment.
    registry.registerMetric(this as unknown as Metric);
  }
}

export class CounterView extends ScrapeView<IstioSeries> {
  readonly type = 'counter' as const;

  protected samples(series: IstioSeries, shared: boolean, into: Sample[]): void {
    into.push(this.sample(series.count, NO_LABELS, series, shared));
  }
}

export class HistogramView<S extends LabelledSeries = IstioSeries> extends ScrapeView<S> {
  readonly type = 'histogram' as const;
  readonly #le: Readonly<Record<string, string | number>>[];

  constructor(
    name: string,
    help: string,
    source: SeriesSource<S>,
    bounds: readonly number[],
    private readonly cells: (s: S) => HistogramCells,
  ) {
    super(name, help, source);
    // One `le` label object per bucket, shared by every series.
    this.#le = [...bounds.map((b) => Object.freeze({ le: b })), Object.freeze({ le: '+Inf' })];
  }

  protected samples(series: S, shared: boolean, into: Sample[]): void {
    const h = this.cells(series);
    const bucket = `${this.name}_bucket`;
    let acc = 0;
    for (let i = 0; i < this.#le.length; i++) {
      acc += h.counts[i]!;
      into.push(this.sample(acc, this.#le[i]!, series, shared, bucket));
    }
    into.push(this.sample(h.sum, NO_LABELS, series, shared, `${this.name}_sum`));
    into.push(this.sample(acc, NO_LABELS, series, shared, `${this.name}_count`));
  }
}
