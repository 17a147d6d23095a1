/**
 * Finds the IstioSeries for a request, creating it on first sight, within a
 * cap on distinct label sets.
 *
 * Lookup: the two workload label objects resolve to a row (one per
 * interned source and destination pair), and the per-request values to a
 * number (request-key.ts) that keys the row's series. Records whose values
 * fall outside the types take an exact string key; the same values always
 * take the same path, so no label set is ever held twice.
 *
 * Two memories in front of that, because the pipeline hands the same label
 * objects for the same workloads (this process's identity, a cached peer or
 * destination) and consecutive requests mostly repeat a label set:
 * - the last series found for each reporter and the values it was found
 *   for: a request equal to it in all eight key fields is eight
 *   comparisons, no lookup at all. One per reporter because a service
 *   records its inbound request (destination) and the call its handler
 *   made (source) in turn, and one memory for both missed every time;
 * - the last pair's label objects and row: a request from the same pair
 *   skips both interner lookups and the pair lookup, leaving one lookup by a
 *   small integer.
 * Both hold only series and rows still in the index (clear() resets them),
 * and never a folded request (each fold must be counted).
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

/** Matches no record: what the remembered pair holds before the first row, and after clear(). */
const NO_LABELS = Object.freeze({}) as WorkloadLabels & DestinationLabels;

/** One (source, destination) pair's series, by the request part of their key. */
type Row = Map<number, IstioSeries>;

/** The last series get() answered, with the record fields that key it. */
class LastSeries {
  source: WorkloadLabels = NO_LABELS;
  destination: DestinationLabels = NO_LABELS;
  responseCode = Number.NaN;
  grpcStatus: number | undefined = undefined;
  responseFlags = '';
  reporter: RequestRecord['reporter'] = 'source';
  protocol: RequestRecord['protocol'] = 'http';
  connectionSecurityPolicy: RequestRecord['connectionSecurityPolicy'] = 'unknown';
  series: IstioSeries | undefined = undefined;

  /** True when `r` keys the remembered series. NaN codes never match, and take the full lookup. */
  matches(r: RequestRecord): boolean {
    return (
      r.source === this.source &&
      r.destination === this.destination &&
      r.responseCode === this.responseCode &&
      r.responseFlags === this.responseFlags &&
      r.grpcStatus === this.grpcStatus &&
      r.reporter === this.reporter &&
      r.protocol === this.protocol &&
      r.connectionSecurityPolicy === this.connectionSecurityPolicy
    );
  }

  set(r: RequestRecord, series: IstioSeries): void {
    this.source = r.source;
    this.destination = r.destination;
    this.responseCode = r.responseCode;
    this.grpcStatus = r.grpcStatus;
    this.responseFlags = r.responseFlags;
    this.reporter = r.reporter;
    this.protocol = r.protocol;
    this.connectionSecurityPolicy = r.connectionSecurityPolicy;
    this.series = series;
  }
}

export class SeriesIndex {
  readonly #sources: LabelInterner<WorkloadLabels>;
  readonly #destinations: LabelInterner<DestinationLabels>;
  readonly #keys = new RequestKeys();
  /** (source, destination) → row. */
  readonly #rows = new Map<number, Row>();
  readonly #exact = new Map<string, IstioSeries>();
  readonly #overflow = new Map<string, IstioSeries>();
  readonly #all: IstioSeries[] = [];
  readonly #radix: number;
  /** The label objects of the last request that found a row, and that row. */
  #lastSource: WorkloadLabels = NO_LABELS;
  #lastDestination: DestinationLabels = NO_LABELS;
  #lastRow: Row = new Map();
  /** The last series of each reporter: `source` (outbound calls) and `destination` (inbound requests). */
  #lastOut = new LastSeries();
  #lastIn = new LastSeries();

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
    // Kept this small so the optimizing compilers inline it into record(); misses go to #miss.
    const last = r.reporter === 'source' ? this.#lastOut : this.#lastIn;
    return last.matches(r) ? last.series! : this.#miss(r, last);
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
    this.#rows.clear();
    this.#exact.clear();
    this.#overflow.clear();
    this.#all.length = 0;
    this.#remember(NO_LABELS, NO_LABELS, new Map());
    this.#lastOut = new LastSeries();
    this.#lastIn = new LastSeries();
  }

  #miss(r: RequestRecord, last: LastSeries): IstioSeries {
    const s = this.#find(r);
    if (s === undefined) return this.#fold(r);
    last.set(r, s);
    return s;
  }

  /** The series for `r`, found or made; undefined when it must be folded. */
  #find(r: RequestRecord): IstioSeries | undefined {
    // Same label objects as the last row found: their ids, and so their row, are the same.
    if (r.source === this.#lastSource && r.destination === this.#lastDestination) {
      const part = this.#keys.part(r);
      if (part >= 0) {
        const hit = this.#lastRow.get(part);
        if (hit !== undefined) return hit;
      }
    }
    const src = this.#sources.id(r.source);
    const dst = this.#destinations.id(r.destination);
    if (src === OVERFLOW || dst === OVERFLOW) return undefined;
    const part = this.#keys.part(r);
    if (part < 0) {
      const key = stringKey(src, dst, r);
      const known = this.#exact.get(key);
      if (known !== undefined) return known;
      const s = this.#create(src, dst, r);
      if (s !== undefined) this.#exact.set(key, s);
      return s;
    }
    const pair = src * this.#radix + dst;
    let row = this.#rows.get(pair);
    if (row !== undefined) {
      this.#remember(r.source, r.destination, row);
      const hit = row.get(part);
      if (hit !== undefined) return hit;
    }
    const s = this.#create(src, dst, r);
    if (s === undefined) return undefined;
    // The row is made only when a series is, so folded requests leave nothing behind.
    if (row === undefined) {
      row = new Map();
      this.#rows.set(pair, row);
      this.#remember(r.source, r.destination, row);
    }
    row.set(part, s);
    return s;
  }

  #remember(source: WorkloadLabels, destination: DestinationLabels, row: Row): void {
    this.#lastSource = source;
    this.#lastDestination = destination;
    this.#lastRow = row;
  }

  /** A new series for these labels, or undefined past the cap. */
  #create(src: number, dst: number, r: RequestRecord): IstioSeries | undefined {
    if (this.#all.length >= this.max) return undefined;
    const labels = buildIstioLabels(this.#sources.values(src), this.#destinations.values(dst), {
      reporter: String(r.reporter),
      protocol: String(r.protocol),
      responseFlags: r.responseFlags || '-',
      connectionSecurityPolicy: String(r.connectionSecurityPolicy),
      responseCode: String(r.responseCode),
      grpcStatus: r.grpcStatus === undefined ? '' : String(r.grpcStatus),
    });
    const s = new IstioSeries(labels);
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
