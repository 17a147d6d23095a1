/**
 * A real ADS server (grpc-js, port 0) for the xDS client's tests: it serves
 * hand-built Envoy resources (packed with packAny), state of the world,
 * answers each new subscription, pushes every update to subscribed
 * streams, and records every request (ACKs and NACKs with error_detail) so
 * tests assert on what the client told the control plane.
 */
import * as grpc from '@grpc/grpc-js';
import { adsPackageDefinition, packAny, TYPE_URL, unpackAny } from '../../src/discovery/xds/envoy-protos.js';

type Any = { type_url: string; value: Buffer };

export interface SeenRequest {
  readonly type_url: string;
  readonly version_info: string;
  readonly response_nonce: string;
  readonly resource_names: string[];
  readonly error_detail: { code: number; message: string } | null;
  readonly node: { id: string; metadata?: { fields: Record<string, { stringValue?: string }> } } | null;
}

interface StreamState {
  readonly call: grpc.ServerDuplexStream<SeenRequest, unknown>;
  readonly names: Map<string, string[]>;
  readonly answered: Map<string, string>;
}

export class TestAdsServer {
  readonly requests: SeenRequest[] = [];
  readonly #resources = new Map<string, Map<string, Any>>();
  readonly #versions = new Map<string, number>();
  readonly #streams = new Set<StreamState>();
  #server: grpc.Server | undefined;
  #nonce = 0;
  port = 0;

  /** Start (or restart on the same port). */
  async start(port = this.port): Promise<void> {
    const server = new grpc.Server();
    const pkg = grpc.loadPackageDefinition(adsPackageDefinition()) as unknown as {
      envoy: { service: { discovery: { v3: { AggregatedDiscoveryService: { service: grpc.ServiceDefinition } } } } };
    };
    server.addService(pkg.envoy.service.discovery.v3.AggregatedDiscoveryService.service, {
      StreamAggregatedResources: (call: grpc.ServerDuplexStream<SeenRequest, unknown>) => this.#stream(call),
      DeltaAggregatedResources: (call: grpc.ServerDuplexStream<unknown, unknown>) =>
        call.emit('error', { code: grpc.status.UNIMPLEMENTED, details: 'delta is not served' }),
    });
    this.port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    this.#server = server;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get streams(): number {
    return this.#streams.size;
  }

  /** Replace every resource of one type and push the new version to subscribers. */
  set(typeUrl: string, resources: Any[]): void {
    const byName = new Map<string, Any>();
    for (const r of resources) byName.set(nameOf(typeUrl, r), r);
    this.#resources.set(typeUrl, byName);
    this.#versions.set(typeUrl, (this.#versions.get(typeUrl) ?? 0) + 1);
    for (const s of this.#streams) if (s.names.has(typeUrl)) this.#respond(s, typeUrl);
  }

  /** Push one response with exactly these resources (no filtering: for bad-input tests). */
  pushRaw(typeUrl: string, resources: Any[], version: string): void {
    for (const s of this.#streams) s.call.write({ version_info: version, resources, type_url: typeUrl, nonce: String(++this.#nonce) });
  }

  nacks(typeUrl?: string): SeenRequest[] {
    return this.requests.filter((r) => r.error_detail !== null && r.error_detail.message !== '' && (typeUrl === undefined || r.type_url === typeUrl));
  }

  acks(typeUrl: string, version: string): SeenRequest[] {
    return this.requests.filter((r) => r.type_url === typeUrl && r.version_info === version && r.response_nonce !== '' && (r.error_detail?.message ?? '') === '');
  }

  /** Stop at once: streams are cut, as when the control plane dies. */
  async stop(): Promise<void> {
    for (const s of this.#streams) s.call.destroy();
    this.#streams.clear();
    this.#server?.forceShutdown();
    this.#server = undefined;
  }

  #stream(call: grpc.ServerDuplexStream<SeenRequest, unknown>): void {
    const s: StreamState = { call, names: new Map(), answered: new Map() };
    this.#streams.add(s);
    call.on('data', (req: SeenRequest) => {
      this.requests.push(req);
      const names = [...req.resource_names].sort();
      const before = s.names.get(req.type_url);
      s.names.set(req.type_url, names);
      // Answer a new or changed subscription; an ACK or NACK of the same one needs no answer.
      if (before === undefined || before.join(',') !== names.join(',')) this.#respond(s, req.type_url);
    });
    call.on('error', () => this.#streams.delete(s));
    call.on('end', () => {
      this.#streams.delete(s);
      call.end();
    });
  }

  #respond(s: StreamState, typeUrl: string): void {
    const names = s.names.get(typeUrl) ?? [];
    const all = this.#resources.get(typeUrl) ?? new Map<string, Any>();
    const resources = [...all.entries()].filter(([n]) => names.includes(n)).map(([, r]) => r);
    s.call.write({
      version_info: String(this.#versions.get(typeUrl) ?? 0),
      resources,
      type_url: typeUrl,
      nonce: String(++this.#nonce),
    });
  }
}

function nameOf(typeUrl: string, any: Any): string {
  const obj = unpackAny(typeUrl, any.value);
  return String(obj.name ?? obj.cluster_name ?? '');
}

// ── resource builders ────────────────────────────────────────────────────

const ROUTER = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';
const FAULT = 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault';

export function listener(name: string, routes: { rds: string } | { inline: Record<string, unknown> }, extraFilters: Any[] = []): Any {
  const hcm: Record<string, unknown> = {
    http_filters: [
      ...extraFilters.map((f, i) => ({ name: `filter-${i}`, typed_config: f })),
      { name: 'envoy.filters.http.router', typed_config: packAny(ROUTER, {}) },
    ],
  };
  if ('rds' in routes) hcm.rds = { route_config_name: routes.rds, config_source: { ads: {} } };
  else hcm.route_config = routes.inline;
  return packAny(TYPE_URL.listener, { name, api_listener: { api_listener: packAny(TYPE_URL.httpConnectionManager, hcm) } });
}

export function faultFilter(config: Record<string, unknown>): Any {
  return packAny(FAULT, config);
}

export function routeConfig(name: string, virtualHosts: Record<string, unknown>[]): Any {
  return packAny(TYPE_URL.routeConfiguration, { name, virtual_hosts: virtualHosts });
}

export function cluster(name: string, extra: Record<string, unknown> = {}): Any {
  return packAny(TYPE_URL.cluster, {
    name,
    type: 'EDS',
    eds_cluster_config: { eds_config: { ads: {} } },
    lb_policy: 'ROUND_ROBIN',
    ...extra,
  });
}

export function endpoints(clusterName: string, ports: number[], extra: (port: number) => Record<string, unknown> = () => ({})): Any {
  return packAny(TYPE_URL.clusterLoadAssignment, {
    cluster_name: clusterName,
    endpoints: [
      {
        locality: { region: 'r1', zone: 'z1' },
        lb_endpoints: ports.map((port) => ({
          endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } },
          ...extra(port),
        })),
      },
    ],
  });
}

export { packAny, TYPE_URL };
