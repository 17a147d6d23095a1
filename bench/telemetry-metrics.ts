/**
 * Microbenchmark: what telemetry costs per request. ns per
 * `IstioMetrics.record()` with a warm label cache (one label set) and with
 * 100 rotating label sets, with new label objects on every request,
 * prom-client's own `.labels()` children for the same four metrics (the
 * design IstioMetrics avoids), access-log line formatting, and a scrape.
 * Target: record() well under 1 µs.
 *
 * Run: npx tsx bench/telemetry-metrics.ts   (about 15 s)
 *
 * Each cell is the median of several timed rounds after a warm-up, so JIT
 * tiering and GC pauses do not land in the number. Records are prebuilt and
 * vary in duration and sizes, so histogram buckets differ between calls.
 */
import { Counter, Histogram, Registry } from 'prom-client';
import { AccessLog, formatAccessLogLine } from '../src/telemetry/access-log.js';
import { ISTIO_BYTES_BUCKETS, ISTIO_DURATION_BUCKETS_MS, ISTIO_LABEL_NAMES } from '../src/telemetry/metrics/istio-labels.js';
import { IstioMetrics } from '../src/telemetry/metrics/istio-metrics.js';
import type { DestinationLabels, RequestRecord, WorkloadLabels } from '../src/telemetry/request-record.js';
import { markdownTable, num } from './lib/table.js';

const SOURCE: WorkloadLabels = {
  workload: 'productpage-v1',
  namespace: 'bookinfo',
  principal: 'spiffe://cluster.local/ns/bookinfo/sa/productpage',
  app: 'productpage',
  version: 'v1',
  canonicalService: 'productpage',
  canonicalRevision: 'v1',
  cluster: 'Kubernetes',
};

function dest(i: number): DestinationLabels {
  return {
    workload: `svc-${i}-v1`,
    namespace: 'bookinfo',
    principal: `spiffe://cluster.local/ns/bookinfo/sa/svc-${i}`,
    app: `svc-${i}`,
    version: 'v1',
    canonicalService: `svc-${i}`,
    canonicalRevision: 'v1',
    cluster: 'Kubernetes',
    service: `svc-${i}.bookinfo.svc.cluster.local`,
    serviceName: `svc-${i}`,
    serviceNamespace: 'bookinfo',
  };
}

function makeRecord(i: number, destination: DestinationLabels, source = SOURCE): RequestRecord {
  return {
    reporter: 'source',
    source,
    destination,
    protocol: 'http',
    responseCode: 200,
    grpcStatus: undefined,
    responseFlags: '-',
    connectionSecurityPolicy: 'unknown',
    startTime: 1_735_787_045_678 + i,
    durationMs: 0.3 + (i % 97) * 1.7,
    requestBytes: (i * 37) % 4096,
    responseBytes: (i * 911) % 65536,
    method: 'GET',
    authority: `${destination.serviceName}:9080`,
    path: `/api/items/${i}?page=${i % 7}`,
    route: 'default',
    upstreamHost: `10.0.${i % 3}.${i % 250}:9080`,
    attempts: 1,
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    peerPrincipal: destination.principal,
  };
}

const N = 1024;
const ONE = dest(0);
const DESTS = Array.from({ length: 100 }, (_, i) => dest(i));
const warmRecords = Array.from({ length: N }, (_, i) => makeRecord(i, ONE));
const rotatingRecords = Array.from({ length: N }, (_, i) => makeRecord(i, DESTS[i % 100]!));

const ROUNDS = 7;
let sink = 0;

function median(fn: (iterations: number) => void, iterations: number, warmup: number): number {
  fn(warmup);
  const rounds: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const start = process.hrtime.bigint();
    fn(iterations);
    rounds.push(Number(process.hrtime.bigint() - start) / iterations);
  }
  rounds.sort((a, b) => a - b);
  return rounds[ROUNDS >> 1]!;
}

function recordLoop(m: IstioMetrics, records: RequestRecord[]) {
  return (iterations: number) => {
    for (let i = 0; i < iterations; i++) m.record(records[i & (N - 1)]!);
  };
}

/** A producer that builds new label objects for every request: the interner's content path (copies included). */
function freshLabelsLoop(m: IstioMetrics) {
  return (iterations: number) => {
    for (let i = 0; i < iterations; i++) {
      const r = rotatingRecords[i & (N - 1)]!;
      m.record({ ...r, source: { ...r.source }, destination: { ...r.destination } });
    }
  };
}

/** prom-client's own metrics, children cached per label set, as the obvious design would. */
function promClientLoop(records: RequestRecord[]) {
  const registry = new Registry();
  const labelNames = [...ISTIO_LABEL_NAMES];
  const counter = new Counter({ name: 'c_total', help: 'h', labelNames, registers: [registry] });
  const hist = (name: string, buckets: readonly number[]) =>
    new Histogram({ name, help: 'h', labelNames, buckets: [...buckets], registers: [registry] });
  const duration = hist('d', ISTIO_DURATION_BUCKETS_MS);
  const req = hist('rq', ISTIO_BYTES_BUCKETS);
  const res = hist('rs', ISTIO_BYTES_BUCKETS);
  const children = new Map<DestinationLabels, ReturnType<typeof childrenFor>>();
  function childrenFor(r: RequestRecord) {
    const d = r.destination;
    const s = r.source;
    const values = [
      r.reporter, s.workload, s.namespace, s.principal, s.app, s.version, s.canonicalService, s.canonicalRevision, s.cluster,
      d.workload, d.namespace, d.principal, d.app, d.version, d.service, d.serviceName, d.serviceNamespace,
      d.canonicalService, d.canonicalRevision, d.cluster, r.protocol, r.responseFlags, r.connectionSecurityPolicy,
      String(r.responseCode), '',
    ];
    const labels = Object.fromEntries(labelNames.map((n, i) => [n, values[i]!]));
    return { c: counter.labels(labels), d: duration.labels(labels), rq: req.labels(labels), rs: res.labels(labels) };
  }
  return (iterations: number) => {
    for (let i = 0; i < iterations; i++) {
      const r = records[i & (N - 1)]!;
      let ch = children.get(r.destination);
      if (ch === undefined) {
        ch = childrenFor(r);
        children.set(r.destination, ch);
      }
      ch.c.inc();
      ch.d.observe(r.durationMs);
      ch.rq.observe(r.requestBytes);
      ch.rs.observe(r.responseBytes);
    }
  };
}

function formatLoop(iterations: number): void {
  for (let i = 0; i < iterations; i++) sink += formatAccessLogLine(rotatingRecords[i & (N - 1)]!).length;
}

function accessLogLoop(sampleRate: number) {
  const log = new AccessLog({ sink: (line) => (sink += line.length), sampleRate });
  return (iterations: number) => {
    for (let i = 0; i < iterations; i++) log.log(rotatingRecords[i & (N - 1)]!);
  };
}

async function scrapeMs(): Promise<number> {
  const m = new IstioMetrics();
  recordLoop(m, rotatingRecords)(N);
  await m.registry.metrics();
  const times = 20;
  const start = process.hrtime.bigint();
  for (let i = 0; i < times; i++) sink += (await m.registry.metrics()).length;
  return Number(process.hrtime.bigint() - start) / times / 1e6;
}

const rows: [string, string][] = [];
const add = (name: string, ns: number) => {
  rows.push([name, num(ns, ns < 10 ? 1 : 0)]);
  process.stderr.write(`${name}: ${ns.toFixed(1)} ns\n`);
};

add('IstioMetrics.record, warm cache, 1 label set', median(recordLoop(new IstioMetrics(), warmRecords), 1_000_000, 300_000));
add('IstioMetrics.record, 100 rotating label sets', median(recordLoop(new IstioMetrics(), rotatingRecords), 1_000_000, 300_000));
add('IstioMetrics.record, new label objects per request (worst case)', median(freshLabelsLoop(new IstioMetrics()), 200_000, 50_000));
add('prom-client .labels() children, 1 label set (reference)', median(promClientLoop(warmRecords), 20_000, 5_000));
add('formatAccessLogLine', median(formatLoop, 300_000, 100_000));
add('AccessLog.log, sampleRate 1 (format + sink)', median(accessLogLoop(1), 300_000, 100_000));
add('AccessLog.log, sampleRate 0.01 (mostly dropped)', median(accessLogLoop(0.01), 1_000_000, 300_000));

const scrape = await scrapeMs();

console.log(`\nTelemetry per-request cost (Node ${process.version}, median of ${ROUNDS} rounds)\n`);
console.log(markdownTable(['operation', 'ns/op'], rows, ['left', 'right']));
console.log(`\nScrape (registry.metrics()) with 100 Istio label sets: ${scrape.toFixed(2)} ms`);
if (sink === -1) console.log(sink);
