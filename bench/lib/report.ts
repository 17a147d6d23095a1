/**
 * Turns the bench's raw runs into per-row summaries, markdown tables and the
 * mesh's target checks. Closed-loop numbers are the median over rounds;
 * fixed-rate percentiles pool every slice's samples into one histogram.
 * Uncertainty: 90% bootstrap intervals, resampling the runs (closed loop) or
 * the probe's rounds of slices (fixed rate, paired: a round holds one slice
 * of every row).
 */
import { createHistogram } from 'node:perf_hooks';
import { latencyOf } from './latency.js';
import { ROW_LABELS, type RowId } from './options.js';
import { markdownTable, num, ratio, signed } from './table.js';
import type { Latency, LoadResult } from './types.js';

export interface RunRecord {
  round: number;
  result?: LoadResult;
  error?: string;
  /** Requests each replica served during the run (warm-up included). */
  perReplica?: number[];
  /** Share of the machine's CPU that processes other than the bench's used during the run. */
  foreignCpu?: number;
  /** Other processes used enough CPU to skew the run; left out of the medians when a row has clean runs. */
  disturbed?: boolean;
}

export interface RowRecord {
  id: RowId;
  label: string;
  runs: RunRecord[];
  /** Why the row is not (or no longer) run. */
  reason?: string;
}

export interface ClosedSummary {
  id: RowId;
  label: string;
  reason?: string;
  rounds: number;
  rps: number;
  /** Half the width of the 90% bootstrap interval of the median req/s, as a share of it. */
  rpsSpread: number;
  p50: number;
  p99: number;
  cpuPerRequestUs: number;
  errors: number;
  /** Share of requests each replica served, over all rounds. */
  replicaShare?: number[];
}

export interface FixedSummary {
  id: RowId;
  label: string;
  reason?: string;
  rounds: number;
  samples: number;
  achievedRps: number;
  latencyUs?: Latency;
  cpuPerRequestUs: number;
  maxSendLagMs: number;
  errors: number;
}

export interface Target {
  target: string;
  measured: string;
  /** The 90% bootstrap interval, shown like `measured`. */
  interval: string;
  /** "yes", "NO", either with " (within noise)" when the interval straddles the line, or "–". */
  met: string;
}

export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function sum<T>(list: T[], f: (item: T) => number): number {
  return list.reduce((a, item) => a + f(item), 0);
}

// ------------------------------------------------------------ uncertainty

/** A small seeded PRNG (mulberry32), so a run's intervals are reproducible from its data. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Interval = [low: number, high: number];

/** Fewer rounds than this give no interval worth printing. */
const MIN_ROUNDS = 5;

/**
 * 90% percentile-bootstrap interval of `stat` over independent samples: each
 * list is resampled with replacement on its own.
 */
export function bootstrap(lists: number[][], stat: (lists: number[][]) => number, rounds = 2000): Interval {
  const next = random(0x5eed);
  const values: number[] = [];
  for (let b = 0; b < rounds; b++) {
    const resampled = lists.map((list) => list.map(() => list[Math.floor(next() * list.length)]!));
    values.push(stat(resampled));
  }
  values.sort((x, y) => x - y);
  return [values[Math.floor(rounds * 0.05)]!, values[Math.ceil(rounds * 0.95) - 1]!];
}

/**
 * 90% bootstrap interval of `stat` over several rows' runs, resampling whole
 * rounds: a round's runs of different rows ran moments apart, so keeping
 * them together keeps what the machine did meanwhile out of the comparison.
 */
function roundsBootstrap(
  records: RowRecord[],
  value: (r: LoadResult) => number,
  stat: (lists: number[][]) => number,
  rounds = 2000,
): Interval | undefined {
  const byRound = records.map(
    (record) => new Map(cleanRuns(record).map((run) => [run.round, value(run.result!)] as const)),
  );
  const shared = [...byRound[0]!.keys()].filter((k) => byRound.every((m) => m.has(k)));
  if (shared.length < MIN_ROUNDS) return undefined;
  const next = random(0x5eed);
  const values: number[] = [];
  for (let b = 0; b < rounds; b++) {
    const pick = shared.map(() => shared[Math.floor(next() * shared.length)]!);
    values.push(stat(byRound.map((m) => pick.map((k) => m.get(k)!))));
  }
  values.sort((x, y) => x - y);
  return [values[Math.floor(rounds * 0.05)]!, values[Math.ceil(rounds * 0.95) - 1]!];
}

function halfWidth([low, high]: Interval): number {
  return (high - low) / 2;
}

/** Median of several sample lists pooled. */
function pooledMedian(lists: ArrayLike<number>[]): number {
  let n = 0;
  for (const l of lists) n += l.length;
  const all = new Float64Array(n);
  let i = 0;
  for (const l of lists) {
    all.set(l, i);
    i += l.length;
  }
  all.sort();
  return n === 0 ? Number.NaN : n % 2 ? all[n >> 1]! : (all[(n >> 1) - 1]! + all[n >> 1]!) / 2;
}

/**
 * 90% interval of (pooled p50 of `row`) − (pooled p50 of `base`), resampling
 * the probe's rounds: a round holds one slice of each row, taken moments
 * apart, so the pairing cancels what the machine did meanwhile.
 */
function addedP50Interval(row: RowRecord, base: RowRecord, rounds = 400): Interval | undefined {
  const byRound = (record: RowRecord) =>
    new Map(cleanRuns(record).flatMap((r) => (r.result?.samplesUs ? [[r.round, r.result.samplesUs] as const] : [])));
  const a = byRound(row);
  const b = byRound(base);
  const shared = [...a.keys()].filter((k) => b.has(k));
  if (shared.length < MIN_ROUNDS) return undefined;
  const next = random(0x5eed);
  const values: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const pick = shared.map(() => shared[Math.floor(next() * shared.length)]!);
    values.push(pooledMedian(pick.map((k) => a.get(k)!)) - pooledMedian(pick.map((k) => b.get(k)!)));
  }
  values.sort((x, y) => x - y);
  return [values[Math.floor(rounds * 0.05)]!, values[Math.ceil(rounds * 0.95) - 1]!];
}

/** The row's runs with results, leaving out disturbed runs unless every run was disturbed. */
function cleanRuns(record: RowRecord): RunRecord[] {
  const ok = record.runs.filter((r) => r.result);
  const clean = ok.filter((r) => !r.disturbed);
  return clean.length > 0 ? clean : ok;
}

function resultsOf(record: RowRecord): LoadResult[] {
  return cleanRuns(record).map((r) => r.result!);
}

function replicaShare(runs: RunRecord[]): number[] | undefined {
  let totals: number[] | undefined;
  for (const run of runs) {
    if (run.perReplica?.every(Number.isFinite)) totals = run.perReplica.map((n, i) => (totals?.[i] ?? 0) + n);
  }
  const sum = totals?.reduce((a, b) => a + b, 0) ?? 0;
  return totals && sum > 0 ? totals.map((n) => Math.round((n / sum) * 1000) / 1000) : undefined;
}

export function summarizeClosed(record: RowRecord): ClosedSummary {
  const results = resultsOf(record);
  const rps = results.map((r) => r.rps);
  const summary: ClosedSummary = {
    id: record.id,
    label: record.label,
    rounds: results.length,
    rps: median(rps),
    rpsSpread: results.length >= MIN_ROUNDS ? halfWidth(bootstrap([rps], ([a]) => median(a!))) / median(rps) : Number.NaN,
    p50: median(results.map((r) => r.latencyUs.p50)),
    p99: median(results.map((r) => r.latencyUs.p99)),
    cpuPerRequestUs: median(results.map((r) => r.cpuPerRequestUs)),
    errors: results.reduce((a, r) => a + r.errors, 0),
  };
  const share = replicaShare(record.runs);
  if (share) summary.replicaShare = share;
  if (results.length === 0) summary.reason = record.reason ?? 'no result';
  return summary;
}

export function summarizeFixed(record: RowRecord): FixedSummary {
  const results = resultsOf(record);
  const h = createHistogram();
  for (const r of results) for (const us of r.samplesUs ?? []) h.record(Math.max(1, Math.round(us * 1000)));
  const summary: FixedSummary = {
    id: record.id,
    label: record.label,
    rounds: results.length,
    samples: h.count,
    achievedRps: (1000 * sum(results, (r) => r.completed)) / sum(results, (r) => r.elapsedMs),
    cpuPerRequestUs: sum(results, (r) => r.cpuUserUs + r.cpuSystemUs) / sum(results, (r) => r.completed),
    maxSendLagMs: Math.max(0, ...results.map((r) => r.maxSendLagMs ?? 0)),
    errors: results.reduce((a, r) => a + r.errors, 0),
  };
  if (h.count > 0) summary.latencyUs = latencyOf(h);
  if (results.length === 0) summary.reason = record.reason ?? 'no result';
  return summary;
}

function unavailableCell(reason: string): string {
  return `unavailable (${reason.replaceAll('|', '/')})`;
}

export function closedTable(summaries: ClosedSummary[]): string {
  const raw = summaries.find((s) => s.id === 'raw' && !s.reason);
  const rows = summaries.map((s) => {
    if (s.reason) return [s.label, unavailableCell(s.reason)];
    return [
      s.label,
      num(s.rps),
      Number.isFinite(s.rpsSpread) ? `±${(s.rpsSpread * 100).toFixed(1)}%` : '–',
      num(s.p50),
      num(s.p99),
      num(s.cpuPerRequestUs, 1),
      raw ? ratio(s.rps / raw.rps) : '–',
      raw ? signed(s.cpuPerRequestUs - raw.cpuPerRequestUs) : '–',
    ];
  });
  return markdownTable(
    ['row', 'req/s', '90% CI', 'p50 µs', 'p99 µs', 'client CPU µs/req', '× raw req/s', 'added CPU µs/req'],
    rows,
    ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
  );
}

export function fixedTable(summaries: FixedSummary[]): string {
  const raw = summaries.find((s) => s.id === 'raw' && s.latencyUs)?.latencyUs;
  const rows = summaries.map((s) => {
    if (s.reason || !s.latencyUs) return [s.label, unavailableCell(s.reason ?? 'no samples')];
    return [
      s.label,
      num(s.achievedRps),
      num(s.latencyUs.p50),
      num(s.latencyUs.p99),
      num(s.latencyUs.p999),
      raw ? signed(s.latencyUs.p50 - raw.p50) : '–',
      num(s.cpuPerRequestUs, 1),
    ];
  });
  return markdownTable(
    ['row', 'achieved req/s', 'p50 µs', 'p99 µs', 'p99.9 µs', 'added p50 µs', 'client CPU µs/req'],
    rows,
    ['left', 'right', 'right', 'right', 'right', 'right', 'right'],
  );
}

/**
 * The mesh's published targets, checked against this run. Point estimates
 * are the tables' (ratio or difference of medians); intervals resample
 * rounds, keeping each round's runs of the two rows together.
 */
export function targets(closedRecords: RowRecord[], fixedRecords: RowRecord[], rate: number): Target[] {
  const list: Target[] = [];
  const find = (records: RowRecord[], id: RowId) => {
    const record = records.find((r) => r.id === id);
    return record && cleanRuns(record).length > 0 ? record : undefined;
  };
  const micros = (v: number) => `${signed(v)} µs`;
  const ratioOf = ([a, b]: number[][]) => median(a!) / median(b!);
  const differenceOf = ([a, b]: number[][]) => median(a!) - median(b!);
  const compare = (
    target: string,
    a: RowId,
    b: RowId,
    value: (r: LoadResult) => number,
    stat: (lists: number[][]) => number,
    show: (v: number) => string,
    pass: (v: number) => boolean,
  ) => {
    const ra = find(closedRecords, a);
    const rb = find(closedRecords, b);
    if (!ra || !rb) {
      list.push({ target, measured: 'not measured', interval: '', met: '–' });
      return;
    }
    const point = stat([resultsOf(ra).map(value), resultsOf(rb).map(value)]);
    list.push(verdict(target, point, roundsBootstrap([ra, rb], value, stat), show, pass));
  };
  const rps = (r: LoadResult) => r.rps;
  const cpu = (r: LoadResult) => r.cpuPerRequestUs;
  compare('mesh.request ≥ 0.92× raw undici.request req/s', 'mesh-request', 'raw', rps, ratioOf, ratio, (v) => v >= 0.92);
  compare('mesh.request adds ≤ 2 µs client CPU per request', 'mesh-request', 'raw', cpu, differenceOf, micros, (v) => v <= 2);
  compare('full stack ≥ 0.88× raw undici.request req/s', 'mesh-full', 'raw', rps, ratioOf, ratio, (v) => v >= 0.88);
  compare('full stack adds ≤ 5 µs client CPU per request', 'mesh-full', 'raw', cpu, differenceOf, micros, (v) => v <= 5);
  compare('telemetry fully on ≥ 0.95× telemetry off req/s', 'mesh-otel', 'mesh-quiet', rps, ratioOf, ratio, (v) => v >= 0.95);
  for (const id of ['haproxy-2', 'nginx-2'] as const) {
    compare(`mesh.request ≥ 1.25× ${ROW_LABELS[id]} req/s`, 'mesh-request', id, rps, ratioOf, ratio, (v) => v >= 1.25);
  }
  const fixedRaw = find(fixedRecords, 'raw');
  const fixedMesh = find(fixedRecords, 'mesh-request');
  const p50Target = `mesh.request adds ≤ 10 µs p50 at ${num(rate)} req/s`;
  const rawP50 = fixedRaw && summarizeFixed(fixedRaw).latencyUs?.p50;
  const meshP50 = fixedMesh && summarizeFixed(fixedMesh).latencyUs?.p50;
  if (rawP50 === undefined || meshP50 === undefined) {
    list.push({ target: p50Target, measured: 'not measured', interval: '', met: '–' });
  } else {
    const interval = addedP50Interval(fixedMesh!, fixedRaw!);
    list.push(verdict(p50Target, meshP50 - rawP50, interval, micros, (v) => v <= 10));
  }
  compare('mesh.fetch ≥ 1.0× global fetch req/s', 'mesh-fetch', 'fetch', rps, ratioOf, ratio, (v) => v >= 1);
  return list;
}

function verdict(
  target: string,
  value: number,
  interval: Interval | undefined,
  show: (v: number) => string,
  pass: (v: number) => boolean,
): Target {
  const met = pass(value) ? 'yes' : 'NO';
  if (!interval) return { target, measured: show(value), interval: '', met: `${met} (too few rounds to tell)` };
  // Within noise: the interval holds values on both sides of the line.
  const sure = pass(interval[0]) === pass(value) && pass(interval[1]) === pass(value);
  return {
    target,
    measured: show(value),
    interval: `${show(interval[0])} … ${show(interval[1])}`,
    met: `${met}${sure ? '' : ' (within noise)'}`,
  };
}

export function targetsTable(list: Target[]): string {
  return markdownTable(
    ['target', 'measured', '90% CI', 'met'],
    list.map((t) => [t.target, t.measured, t.interval || '–', t.met]),
    ['left', 'right', 'right', 'left'],
  );
}
