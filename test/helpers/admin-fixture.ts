/**
 * Input for admin server tests: a REAL TelemetryMetrics fed real
 * RequestRecords (bookinfo's productpage calling reviews, ratings and
 * details, and serving its own callers), and a plain AdminSource object for
 * clusters and config. The source is data the server renders, not a mock of
 * anything under test.
 */

import { type IncomingHttpHeaders, request } from 'node:http';
import type { AdminSource, ClusterView, ConfigChange, EndpointView } from '../../src/admin/admin-source.js';
import type { MeshLogger } from '../../src/telemetry/logger.js';
import { TelemetryMetrics } from '../../src/telemetry/metrics/index.js';
import type { DestinationLabels, RequestRecord, WorkloadLabels } from '../../src/telemetry/request-record.js';

const NS = 'bookinfo';

function workload(app: string, version = 'v1'): WorkloadLabels {
  return {
    workload: `${app}-${version}`,
    namespace: NS,
    principal: `spiffe://cluster.local/ns/${NS}/sa/${app}`,
    app,
    version,
    canonicalService: app,
    canonicalRevision: version,
    cluster: 'Kubernetes',
  };
}

function destination(app: string, version = 'v1'): DestinationLabels {
  return { ...workload(app, version), service: `${app}.${NS}.svc.cluster.local`, serviceName: app, serviceNamespace: NS };
}

export const PRODUCTPAGE = Object.freeze(workload('productpage'));
export const GATEWAY = Object.freeze(workload('istio-ingressgateway', 'unknown'));
export const DESTINATIONS = Object.freeze({
  reviews: Object.freeze(destination('reviews', 'v2')),
  ratings: Object.freeze(destination('ratings')),
  details: Object.freeze(destination('details')),
  productpage: Object.freeze(destination('productpage')),
});
export type ServiceName = keyof typeof DESTINATIONS;

export interface RecordInit {
  service: ServiceName;
  code?: number;
  durationMs?: number;
  /** Default: outbound ('source') for every service but productpage. */
  reporter?: 'source' | 'destination';
  grpcStatus?: number;
}

export function requestRecord(init: RecordInit): RequestRecord {
  const reporter = init.reporter ?? (init.service === 'productpage' ? 'destination' : 'source');
  const grpc = init.grpcStatus !== undefined;
  return {
    reporter,
    source: reporter === 'destination' ? GATEWAY : PRODUCTPAGE,
    destination: DESTINATIONS[init.service],
    protocol: grpc ? 'grpc' : 'http',
    responseCode: init.code ?? 200,
    grpcStatus: init.grpcStatus,
    responseFlags: init.code === 0 ? 'UF' : '-',
    connectionSecurityPolicy: reporter === 'destination' ? 'mutual_tls' : 'unknown',
    startTime: Date.now(),
    durationMs: init.durationMs ?? 7,
    requestBytes: 120,
    responseBytes: 2048,
    method: 'GET',
    authority: `${init.service}:9080`,
    path: `/${init.service}/0`,
    route: `${init.service}-default`,
    upstreamHost: '10.0.0.7:9080',
    attempts: 1,
    traceId: undefined,
    peerPrincipal: undefined,
  };
}

export function endpoint(address: string, over: Partial<EndpointView> = {}): EndpointView {
  return {
    address,
    weight: 1,
    warmth: 1,
    region: 'eu-west-1',
    zone: 'eu-west-1a',
    priority: 0,
    health: 'healthy',
    ejected: false,
    ejectedUntil: undefined,
    inFlight: 0,
    ewmaMs: 0,
    labels: { version: 'v1' },
    ...over,
  };
}

/** Bookinfo's clusters as productpage sees them: reviews has one endpoint ejected, ratings' breaker is open. */
export function bookinfoClusters(now = Date.now()): ClusterView[] {
  return [
    {
      service: 'details',
      namespace: NS,
      circuit: 'closed',
      loadBalancer: 'round-robin',
      discoveryError: undefined,
      endpoints: [endpoint('10.0.1.4:9080', { inFlight: 1, ewmaMs: 3.2 })],
    },
    {
      service: 'ratings',
      namespace: NS,
      circuit: 'open',
      loadBalancer: 'least-request',
      discoveryError: 'dns: ratings.bookinfo: ETIMEOUT (serving the last good answer)',
      endpoints: [endpoint('10.0.2.8:9080', { health: 'unhealthy', ewmaMs: 48.5 })],
    },
    {
      service: 'reviews',
      namespace: NS,
      circuit: 'closed',
      loadBalancer: 'peak-ewma',
      discoveryError: undefined,
      endpoints: [
        endpoint('10.0.0.7:9080', { weight: 3, warmth: 0.35, inFlight: 4, ewmaMs: 12.4, labels: { version: 'v2' } }),
        endpoint('10.0.0.9:9080', { zone: 'eu-west-1b', inFlight: 2, ewmaMs: 15.1, labels: { version: 'v2' } }),
        endpoint('10.0.0.11:9080', { zone: 'eu-west-1b', ejected: true, ejectedUntil: now + 25_000, ewmaMs: 220, labels: { version: 'v3' } }),
      ],
    },
  ];
}

export function bookinfoConfigChanges(now = Date.now()): ConfigChange[] {
  return [
    { time: now - 120_000, source: 'options', version: 1, accepted: true },
    { time: now - 60_000, source: 'file /etc/mesh/mesh.yaml', version: 2, accepted: true },
    {
      time: now - 30_000,
      source: 'xds',
      version: 3,
      accepted: false,
      error: 'services.reviews.routes[2].retries.perTryTimeout: must be a duration like "250ms", got "fast"',
    },
  ];
}

export interface AdminFixture {
  readonly metrics: TelemetryMetrics;
  readonly source: AdminSource & {
    /** Flips what ready() answers. */
    ready: () => boolean;
    clusterList: ClusterView[];
    changes: ConfigChange[];
    isReady: boolean;
  };
  /** Records one request into the real metrics. */
  record(init: RecordInit): void;
  /**
   * A realistic mix per round: productpage serves one request and calls
   * details once and reviews twice; every other round reviews' call reaches
   * ratings, one in ten of which fails with 503. Latencies spread over
   * several buckets, scaled by `latencyFactor`.
   */
  traffic(rounds: number, latencyFactor?: number): void;
  close(): void;
}

export function adminFixture(): AdminFixture {
  const metrics = new TelemetryMetrics();
  const source = {
    registry: metrics.registry,
    isReady: true,
    clusterList: bookinfoClusters(),
    changes: bookinfoConfigChanges(),
    ready(): boolean {
      return source.isReady;
    },
    configDump(): unknown {
      return {
        layers: [
          { source: 'options', version: 1, config: { mesh: { serviceName: 'productpage', namespace: NS } } },
          { source: 'file /etc/mesh/mesh.yaml', version: 2, config: { services: { reviews: { loadBalancer: { policy: 'peak-ewma' } } } } },
        ],
        effective: { mesh: { serviceName: 'productpage', namespace: NS }, services: ['details', 'ratings', 'reviews'] },
      };
    },
    clusters(): readonly ClusterView[] {
      return source.clusterList;
    },
    configChanges(): readonly ConfigChange[] {
      return source.changes;
    },
  };
  let n = 0;
  const record = (init: RecordInit) => metrics.record(requestRecord(init));
  return {
    metrics,
    source,
    record,
    traffic(rounds: number, latencyFactor = 1) {
      const ms = (base: number) => base * latencyFactor;
      for (let i = 0; i < rounds; i++, n++) {
        record({ service: 'productpage', durationMs: ms(60 + (n % 6) * 25) });
        record({ service: 'details', durationMs: ms(1 + (n % 4)) });
        record({ service: 'reviews', durationMs: ms(4 + (n % 7) * 3) });
        record({ service: 'reviews', durationMs: ms(30 + (n % 5) * 20) });
        if (n % 2 === 0) record({ service: 'ratings', durationMs: ms(40 + (n % 3) * 60), code: n % 20 === 0 ? 503 : 200 });
      }
    },
    close() {
      metrics.close();
    },
  };
}

export interface Got {
  status: number;
  headers: IncomingHttpHeaders;
  raw: Buffer;
  body: string;
}

/** One request to an admin server on its own connection (no keep-alive reuse); the body comes back as sent (never unzipped). */
export function adminGet(server: { port: number }, path: string, opts: { method?: string; headers?: Record<string, string> } = {}): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path, method: opts.method ?? 'GET', headers: opts.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const raw = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, raw, body: raw.toString('utf8') });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** A logger that keeps warnings for assertions instead of writing them. */
export function quietLogger(): MeshLogger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, info: () => {}, warn: (m, f) => warnings.push(`${m} ${JSON.stringify(f)}`), error: () => {} };
}
