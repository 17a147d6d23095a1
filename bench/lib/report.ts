/**
 * Turns the bench's raw runs into per-row summaries, markdown tables and the
 * mesh's target checks. Closed-loop numbers are the median over rounds;
 * fixed-rate percentiles pool every round's samples into one histogram.
 */
import { createHistogram } from 'node:perf_hooks';
import { ROW_LABELS, type RowId } from './options.js';
import { markdownTable, num, ratio, signed } from './table.js';
import type { Latency, LoadResult } from './types.js';

export interface RunRecord {
  round: number;
  result?: LoadResult;
  error?: string;
  /** Requests each replica served during the run (warm-up included). */
  perReplica?: number[];
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
  /** (max − min) / median of the rounds' req/s. */
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
  met: boolean | undefined;
}

export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function resultsOf(record: RowRecord): LoadResult[] {
  return record.runs.flatMap((r) => (r.result ? [r.result] : []));
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
    rpsSpread: results.length > 1 ? (Math.max(...rps) - Math.min(...rps)) / median(rps) : 0,
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
  const us = (ns: number) => Math.round(ns / 100) / 10;
  const summary: FixedSummary = {
    id: record.id,
    label: record.label,
    rounds: results.length,
    samples: h.count,
    achievedRps: median(results.map((r) => r.rps)),
    cpuPerRequestUs: median(results.map((r) => r.cpuPerRequestUs)),
    maxSendLagMs: Math.max(0, ...results.map((r) => r.maxSendLagMs ?? 0)),
    errors: results.reduce((a, r) => a + r.errors, 0),
  };
  if (h.count > 0) {
    summary.latencyUs = {
      p50: us(h.percentile(50)),
      p90: us(h.percentile(90)),
      p99: us(h.percentile(99)),
      p999: us(h.percentile(99.9)),
      max: us(h.max),
      mean: us(h.mean),
    };
  }
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
      s.rounds > 1 ? `±${(s.rpsSpread * 50).toFixed(1)}%` : '–',
      num(s.p50),
      num(s.p99),
      num(s.cpuPerRequestUs, 1),
      raw ? ratio(s.rps / raw.rps) : '–',
      raw ? signed(s.cpuPerRequestUs - raw.cpuPerRequestUs) : '–',
    ];
  });
  return markdownTable(
    ['row', 'req/s', 'spread', 'p50 µs', 'p99 µs', 'client CPU µs/req', '× raw req/s', 'added CPU µs/req'],
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

/** The mesh's published targets, checked against this run. */
export function targets(closed: ClosedSummary[], fixed: FixedSummary[], rate: number): Target[] {
  const row = (id: RowId) => closed.find((s) => s.id === id && !s.reason);
  const fixedLatency = (id: RowId) => fixed.find((s) => s.id === id)?.latencyUs;
  const raw = row('raw');
  const mesh = row('mesh-request');
  const list: Target[] = [];
  const add = (target: string, value: number | undefined, show: (v: number) => string, pass: (v: number) => boolean) => {
    list.push(
      value === undefined || !Number.isFinite(value)
        ? { target, measured: 'not measured', met: undefined }
        : { target, measured: show(value), met: pass(value) },
    );
  };
  const micros = (v: number) => `${signed(v)} µs`;
  add('mesh.request ≥ 0.92× raw undici.request req/s', mesh && raw && mesh.rps / raw.rps, ratio, (v) => v >= 0.92);
  add(
    'mesh.request adds ≤ 2 µs client CPU per request',
    mesh && raw && mesh.cpuPerRequestUs - raw.cpuPerRequestUs,
    micros,
    (v) => v <= 2,
  );
  for (const id of ['haproxy-2', 'nginx-2'] as const) {
    const hop = row(id);
    add(`mesh.request ≥ 1.25× ${ROW_LABELS[id]} req/s`, mesh && hop && mesh.rps / hop.rps, ratio, (v) => v >= 1.25);
  }
  const rawP50 = fixedLatency('raw')?.p50;
  const meshP50 = fixedLatency('mesh-request')?.p50;
  add(
    `mesh.request adds ≤ 10 µs p50 at ${num(rate)} req/s`,
    rawP50 !== undefined && meshP50 !== undefined ? meshP50 - rawP50 : undefined,
    micros,
    (v) => v <= 10,
  );
  const meshFetch = row('mesh-fetch');
  const globalFetch = row('fetch');
  add(
    'mesh.fetch ≥ 1.0× global fetch req/s',
    meshFetch && globalFetch && meshFetch.rps / globalFetch.rps,
    ratio,
    (v) => v >= 1,
  );
  return list;
}

export function targetsTable(list: Target[]): string {
  return markdownTable(
    ['target', 'measured', 'met'],
    list.map((t) => [t.target, t.measured, t.met === undefined ? '–' : t.met ? 'yes' : 'NO']),
    ['left', 'right', 'left'],
  );
}
