/**
 * Finds the IstioSeries for a request, creating it on first sight, within a
 * cap on distinct label sets.
 *
 * Lookup: two interned workload ids make the outer key, the per-request
 * values the inner one (request-key.ts), both numbers. Records whose values
 * fall outside the types take an exact string key; the same values always
 * take the same path, so no label set is ever held twice.
 *
 * Past the cap, a new label set is folded into an overflow series that keeps
 * only `reporter` and `response_code` (every other label reads `overflow`),
 * and the caller's `onFold` counts it.
 */
import type { DestinationLabels, RequestRecord, WorkloadLabels } from '../request-record.js';
import {
  buildIstioLabels,
  destinationValues,
  ISTIO_LABEL_NAMES,
  type IstioLabels,
  workloadValues,
} from './istio-labels.js';
import { IstioSeries } from './istio-series.js';
import { LabelInterner, OVERFLOW } from './label-interner.js';
import { OVERFLOW_LABEL } from './overflow-counter.js';
import { RequestKeys, stringKey } from './request-key.js';

/** Overflow series are keyed by reporter and response code; this bounds them too. */
const MAX_OVERFLOW_SERIES = 2_000;

export class SeriesIndex {
  readonly #sources: LabelInterner<WorkloadLabels>;
  readonly #destinations: LabelInterner<DestinationLabels>;
  readonly #keys = new RequestKeys();
  /** (source, destination) → request part → series. */
  readonly #fast = new Map<number, Map<number, IstioSeries>>();
  readonly #exact = new Map<string, IstioSeries>();
  readonly #overflow = new Map<string, IstioSeries>();
  readonly #all: IstioSeries[] = [];
  readonly #radix: number;

  constructor(
    private readonly max: number,
    private readonly onFold: () => void,
  ) {
    // Each side has at most as many distinct workloads as there can be series.
    this.#sources = new LabelInterner(workloadValues, max);
    this.#destinations = new LabelInterner(destinationValues, max);
    this.#radix = max + 1;
  }

  get(r: RequestRecord): IstioSeries {
    const src = this.#sources.id(r.source);
    const dst = this.#destinations.id(r.destination);
    if (src === OVERFLOW || dst === OVERFLOW) return this.#fold(r);
    const part = this.#keys.part(r);
    if (part < 0) {
      const key = stringKey(src, dst, r);
      return this.#exact.get(key) ?? this.#create(src, dst, r, (s) => this.#exact.set(key, s));
    }
    const pair = src * this.#radix + dst;
    const hit = this.#fast.get(pair)?.get(part);
    if (hit !== undefined) return hit;
    // The row is made only when a series is, so folded requests leave nothing behind.
    return this.#create(src, dst, r, (s) => {
      let row = this.#fast.get(pair);
      if (row === undefined) {
        row = new Map();
        this.#fast.set(pair, row);
      }
      row.set(part, s);
    });
  }

  /** Every series, overflow series last. */
  *series(): Iterable<IstioSeries> {
    yield* this.#all;
    yield* this.#overflow.values();
  }

  get size(): number {
    return this.#all.length + this.#overflow.size;
  }

  /** Forgets every series (prom-client's `resetMetrics()`); workload ids stay. */
  clear(): void {
    this.#fast.clear();
    this.#exact.clear();
    this.#overflow.clear();
    this.#all.length = 0;
  }

  #create(src: number, dst: number, r: RequestRecord, store: (s: IstioSeries) => void): IstioSeries {
    if (this.#all.length >= this.max) return this.#fold(r);
    const labels = buildIstioLabels(this.#sources.values(src), this.#destinations.values(dst), {
      reporter: String(r.reporter),
      protocol: String(r.protocol),
      responseFlags: r.responseFlags || '-',
      connectionSecurityPolicy: String(r.connectionSecurityPolicy),
      responseCode: String(r.responseCode),
      grpcStatus: r.grpcStatus === undefined ? '' : String(r.grpcStatus),
    });
    const s = new IstioSeries(labels);
    store(s);
    this.#all.push(s);
    return s;
  }

  #fold(r: RequestRecord): IstioSeries {
    this.onFold();
    const full = this.#overflow.size >= MAX_OVERFLOW_SERIES;
    const reporter = full ? OVERFLOW_LABEL : String(r.reporter);
    const code = full ? OVERFLOW_LABEL : String(r.responseCode);
    const key = `${reporter}|${code}`;
    let s = this.#overflow.get(key);
    if (s === undefined) {
      s = new IstioSeries(overflowLabels(reporter, code));
      this.#overflow.set(key, s);
    }
    return s;
  }
}

function overflowLabels(reporter: string, code: string): IstioLabels {
  const labels: Record<string, string> = {};
  for (const name of ISTIO_LABEL_NAMES) labels[name] = OVERFLOW_LABEL;
  labels.reporter = reporter;
  labels.response_code = code;
  return labels as IstioLabels;
}
