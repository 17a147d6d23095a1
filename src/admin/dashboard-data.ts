/**
 * What the dashboard polls: cumulative request, error and latency-bucket
 * counts per service, read from the registry, plus the source's clusters
 * and config changes. Counts stay cumulative (as Prometheus scrapes them);
 * the page turns the difference between two polls into rates and
 * percentiles, so the server keeps no per-viewer state.
 *
 * Cheap and bounded: only `istio_requests_total` and the duration histogram
 * are read (not the whole registry), through the same shared-label path the
 * text exposition uses, so no per-sample label objects are copied; and every
 * list in the answer has a cap.
 */
import type { AdminSource, ClusterView } from './admin-source.js';
import { type ClusterJson, type ConfigChangeJson, clusterJson, configChangeJson } from './views.js';

export const DASHBOARD_LIMITS = Object.freeze({
  services: 50,
  clusters: 100,
  endpointsPerCluster: 100,
  configChanges: 20,
  /** Characters of any one string (a rejection reason can be long). */
  text: 300,
});

const REQUESTS = 'istio_requests_total';
const DURATION = 'istio_request_duration_milliseconds';

export interface ServiceCounts {
  /** `destination_service_name`. */
  name: string;
  /** `outbound`: this process called it (reporter=source); `inbound`: it served it. */
  direction: 'outbound' | 'inbound';
  requests: number;
  /** No response, HTTP 5xx, or a non-OK gRPC status. */
  errors: number;
  /** Cumulative duration bucket counts, aligned with `le`, then `+Inf`. */
  buckets: number[];
}

export interface DashboardCluster extends ClusterJson {
  /** Endpoints left out past the cap. */
  endpointsOmitted: number;
}

export interface DashboardData {
  /** Server clock, epoch ms: the page measures rates and ejection time left against it. */
  time: number;
  ready: boolean;
  /** Finite upper bounds of the duration buckets, ms. */
  le: number[];
  services: ServiceCounts[];
  clusters: DashboardCluster[];
  configChanges: ConfigChangeJson[];
}

/** The subset of a prom-client sample this reads; `sharedLabels` is how the text path passes series labels. */
interface Sample {
  value: number;
  labels?: Record<string, string | number>;
  sharedLabels?: Record<string, string>;
  metricName?: string;
}

interface Readable {
  get(): Promise<{ values?: Sample[] }> | { values?: Sample[] };
  getForPromString?(): Promise<{ values?: Sample[] }>;
}

export async function dashboardData(source: AdminSource, now = Date.now()): Promise<DashboardData> {
  const services = new Map<string, ServiceCounts>();
  const le = await readDuration(source, services);
  await readRequests(source, services, le.length + 1);
  const top = [...services.values()].sort((a, b) => b.requests - a.requests).slice(0, DASHBOARD_LIMITS.services);
  return {
    time: now,
    ready: source.ready(),
    le,
    services: top.sort((a, b) => a.name.localeCompare(b.name) || a.direction.localeCompare(b.direction)),
    clusters: source.clusters().slice(0, DASHBOARD_LIMITS.clusters).map(boundCluster),
    configChanges: source.configChanges().slice(-DASHBOARD_LIMITS.configChanges).map((c) => configChangeJson(c, clip)),
  };
}

async function samples(source: AdminSource, name: string): Promise<Sample[]> {
  const metric = source.registry.getSingleMetric(name) as Readable | undefined;
  if (metric === undefined) return [];
  const got = typeof metric.getForPromString === 'function' ? await metric.getForPromString() : await metric.get();
  return got.values ?? [];
}

function label(s: Sample, name: string): string {
  const v = s.labels?.[name] ?? s.sharedLabels?.[name];
  return v === undefined ? '' : String(v);
}

function entry(services: Map<string, ServiceCounts>, s: Sample, width: number): ServiceCounts {
  const direction = label(s, 'reporter') === 'destination' ? 'inbound' : 'outbound';
  const name = label(s, 'destination_service_name').slice(0, DASHBOARD_LIMITS.text);
  const key = `${direction} ${name}`;
  let e = services.get(key);
  if (e === undefined) {
    e = { name, direction, requests: 0, errors: 0, buckets: new Array<number>(width).fill(0) };
    services.set(key, e);
  }
  return e;
}

/** Sums bucket counts per service; returns the finite bounds, ascending. */
async function readDuration(source: AdminSource, services: Map<string, ServiceCounts>): Promise<number[]> {
  const buckets = (await samples(source, DURATION)).filter((s) => s.metricName === `${DURATION}_bucket`);
  const finite = new Set<string>();
  for (const s of buckets) {
    const le = label(s, 'le');
    if (le !== '+Inf') finite.add(le);
  }
  const bounds = [...finite].map(Number).sort((a, b) => a - b);
  const index = new Map<string, number>([['+Inf', bounds.length]]);
  for (const le of finite) index.set(le, bounds.indexOf(Number(le)));
  for (const s of buckets) {
    const e = entry(services, s, bounds.length + 1);
    const i = index.get(label(s, 'le'))!;
    e.buckets[i] = (e.buckets[i] ?? 0) + s.value;
  }
  return bounds;
}

async function readRequests(source: AdminSource, services: Map<string, ServiceCounts>, width: number): Promise<void> {
  for (const s of await samples(source, REQUESTS)) {
    const e = entry(services, s, width);
    e.requests += s.value;
    if (isError(label(s, 'response_code'), label(s, 'grpc_response_status'))) e.errors += s.value;
  }
}

function isError(responseCode: string, grpcStatus: string): boolean {
  const code = Number(responseCode);
  return code === 0 || code >= 500 || (grpcStatus !== '' && grpcStatus !== '0');
}

const clip = (s: string): string => s.slice(0, DASHBOARD_LIMITS.text);

function boundCluster(c: ClusterView): DashboardCluster {
  return { ...clusterJson(c, DASHBOARD_LIMITS.endpointsPerCluster, clip), endpointsOmitted: Math.max(0, c.endpoints.length - DASHBOARD_LIMITS.endpointsPerCluster) };
}
