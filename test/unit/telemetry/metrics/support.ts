/** Records to feed the metrics and the access log, and a reader for Prometheus text. */
import type { DestinationLabels, RequestRecord, WorkloadLabels } from '../../../../src/telemetry/request-record.js';

export const PRODUCTPAGE: WorkloadLabels = Object.freeze({
  workload: 'productpage-v1',
  namespace: 'bookinfo',
  principal: 'spiffe://cluster.local/ns/bookinfo/sa/productpage',
  app: 'productpage',
  version: 'v1',
  canonicalService: 'productpage',
  canonicalRevision: 'v1',
  cluster: 'Kubernetes',
});

export const REVIEWS: DestinationLabels = Object.freeze({
  workload: 'reviews-v2',
  namespace: 'bookinfo',
  principal: 'spiffe://cluster.local/ns/bookinfo/sa/reviews',
  app: 'reviews',
  version: 'v2',
  canonicalService: 'reviews',
  canonicalRevision: 'v2',
  cluster: 'Kubernetes',
  service: 'reviews.bookinfo.svc.cluster.local',
  serviceName: 'reviews',
  serviceNamespace: 'bookinfo',
});

export function record(over: Partial<RequestRecord> = {}): RequestRecord {
  return {
    reporter: 'source',
    source: PRODUCTPAGE,
    destination: REVIEWS,
    protocol: 'http',
    responseCode: 200,
    grpcStatus: undefined,
    responseFlags: '-',
    connectionSecurityPolicy: 'unknown',
    startTime: Date.UTC(2025, 0, 2, 3, 4, 5, 678),
    durationMs: 7,
    requestBytes: 120,
    responseBytes: 2048,
    method: 'GET',
    authority: 'reviews:9080',
    path: '/reviews/0?x=1',
    route: 'reviews-default',
    upstreamHost: '10.0.0.7:9080',
    attempts: 1,
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    peerPrincipal: 'spiffe://cluster.local/ns/bookinfo/sa/reviews',
    ...over,
  };
}

/** A destination that differs from REVIEWS only in the service name. */
export function destination(serviceName: string): DestinationLabels {
  return { ...REVIEWS, serviceName, service: `${serviceName}.bookinfo.svc.cluster.local` };
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the sample lines of the text exposition format (HELP/TYPE lines skipped). */
export function samples(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** Samples of one name whose labels include `match`. */
export function find(all: Sample[], name: string, match: Record<string, string> = {}): Sample[] {
  return all.filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v));
}

export function value(all: Sample[], name: string, match: Record<string, string> = {}): number | undefined {
  const hits = find(all, name, match);
  if (hits.length > 1) throw new Error(`${hits.length} samples of ${name} match ${JSON.stringify(match)}`);
  return hits[0]?.value;
}
