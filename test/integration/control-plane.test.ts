/**
 * The control plane's xDS protocol, driven by a raw ADS stream (grpc-js with
 * Envoy's protos): subscriptions, wildcards, versions, nonces, ACK/NACK,
 * pushes of only what changed, the per-type services, CSDS, and config
 * edits good and bad.
 */
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ControlPlane } from '../../src/control/control-plane.js';
import { adsPackageDefinition, discoveryServicesPackageDefinition, TYPE_URL, unpackAny } from '../../src/discovery/xds/envoy-protos.js';
import type { MeshLogger } from '../../src/telemetry/logger.js';

interface Response {
  version_info: string;
  type_url: string;
  nonce: string;
  resources: { type_url: string; value: Buffer }[];
}

/** One raw xDS stream; responses are queued and taken in order. */
class RawStream {
  readonly #call: grpc.ClientDuplexStream<unknown, Response>;
  readonly #queue: Response[] = [];
  readonly #waiting: ((r: Response) => void)[] = [];

  constructor(call: grpc.ClientDuplexStream<unknown, Response>) {
    this.#call = call;
    call.on('data', (r: Response) => {
      const w = this.#waiting.shift();
      if (w) w(r);
      else this.#queue.push(r);
    });
    call.on('error', () => {});
  }

  send(type: string, names: string[], nonce = '', version = '', error?: string): void {
    this.#call.write({
      node: { id: 'raw-client', cluster: 'test' },
      type_url: type,
      resource_names: names,
      response_nonce: nonce,
      version_info: version,
      ...(error !== undefined ? { error_detail: { code: 3, message: error } } : {}),
    });
  }

  next(): Promise<Response> {
    const queued = this.#queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no xDS response within 15 s')), 15_000);
      this.#waiting.push((r) => {
        clearTimeout(timer);
        resolve(r);
      });
    });
  }

  end(): void {
    this.#call.end();
    this.#call.cancel();
  }
}

const names = (r: Response, field = 'name') =>
  r.resources.map((a) => String(unpackAny(a.type_url, a.value)[field])).sort();

function config(endpoint: string, extra = ''): string {
  return `services:
  reviews:
    port: 9080
    endpoints: ["${endpoint}"]
    subsets: { v1: { labels: {} } }
  ratings:
    endpoints: ["10.0.0.9:8080"]
${extra}`;
}

describe('control plane xDS protocol', () => {
  const dir = mkdtempSync(join(tmpdir(), 'proxyless-cp-'));
  const file = join(dir, 'mesh.yaml');
  const logs: { message: string; fields?: Record<string, unknown> }[] = [];
  const logger: MeshLogger = {
    info: () => {},
    warn: (message, fields) => logs.push({ message, fields }),
    error: (message, fields) => logs.push({ message, fields }),
  };
  let cp: ControlPlane;
  let ads: grpc.Client & Record<string, (...args: unknown[]) => unknown>;
  let perType: Record<string, grpc.ServiceClientConstructor>;
  const streams: RawStream[] = [];

  const write = (text: string) => {
    writeFileSync(`${file}.tmp`, text);
    renameSync(`${file}.tmp`, file);
  };
  const open = () => {
    const s = new RawStream(ads.StreamAggregatedResources!() as grpc.ClientDuplexStream<unknown, Response>);
    streams.push(s);
    return s;
  };
  const until = async (check: () => boolean, what: string) => {
    const deadline = Date.now() + 15_000;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  beforeAll(async () => {
    write(config('10.0.0.1:9080'));
    cp = new ControlPlane({ configFile: file, host: '127.0.0.1', port: 0, logger, debounceMs: 10 });
    const port = await cp.start();
    const pkg = grpc.loadPackageDefinition(adsPackageDefinition()) as unknown as {
      envoy: { service: { discovery: { v3: { AggregatedDiscoveryService: grpc.ServiceClientConstructor } } } };
    };
    ads = new pkg.envoy.service.discovery.v3.AggregatedDiscoveryService(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as never;
    perType = grpc.loadPackageDefinition(discoveryServicesPackageDefinition()) as never;
  });

  afterEach(() => {
    for (const s of streams.splice(0)) s.end();
  });

  afterAll(async () => {
    ads.close();
    await cp.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers a wildcard LDS subscription with every listener, and named RDS/EDS with only what exists', async () => {
    const s = open();
    s.send(TYPE_URL.listener, []);
    const lds = await s.next();
    expect(lds.type_url).toBe(TYPE_URL.listener);
    expect(lds.version_info).toBe(cp.snapshot.typeVersions.get(TYPE_URL.listener));
    expect(lds.nonce).not.toBe('');
    expect(names(lds)).toContain('reviews');
    expect(names(lds)).toContain('reviews.default.svc.cluster.local:9080');
    expect(names(lds)).toContain('ratings:8080');
    s.send(TYPE_URL.listener, [], lds.nonce, lds.version_info);

    s.send(TYPE_URL.routeConfiguration, ['reviews', 'missing']);
    const rds = await s.next();
    expect(names(rds)).toEqual(['reviews']);

    s.send(TYPE_URL.clusterLoadAssignment, ['outbound|9080|v1|reviews.default.svc.cluster.local']);
    const eds = await s.next();
    expect(names(eds, 'cluster_name')).toEqual(['outbound|9080|v1|reviews.default.svc.cluster.local']);
    const assignment = unpackAny(eds.resources[0]!.type_url, eds.resources[0]!.value) as {
      endpoints: { lb_endpoints: { endpoint: { address: { socket_address: { address: string; port_value: number } } } }[] }[];
    };
    expect(assignment.endpoints[0]!.lb_endpoints[0]!.endpoint.address.socket_address).toMatchObject({ address: '10.0.0.1', port_value: 9080 });
  });

  it('tells a client at once that a named listener does not exist (an empty response)', async () => {
    const s = open();
    s.send(TYPE_URL.listener, ['nope']);
    const r = await s.next();
    expect(r.resources).toEqual([]);
  });

  it('ignores a request with a stale nonce and serves the next current one', async () => {
    const s = open();
    s.send(TYPE_URL.cluster, ['outbound|9080||reviews.default.svc.cluster.local']);
    const first = await s.next();
    s.send(TYPE_URL.cluster, ['outbound|8080||ratings.default.svc.cluster.local'], 'stale-nonce', first.version_info);
    s.send(TYPE_URL.cluster, ['outbound|9080|v1|reviews.default.svc.cluster.local'], first.nonce, first.version_info);
    const second = await s.next();
    expect(names(second)).toEqual(['outbound|9080|v1|reviews.default.svc.cluster.local']);
  });

  it('records ACKs and NACKs per client, logs a NACK with the node id, and reports both over CSDS', async () => {
    const s = open();
    s.send(TYPE_URL.listener, ['reviews']);
    const lds = await s.next();
    s.send(TYPE_URL.listener, ['reviews'], lds.nonce, lds.version_info);
    s.send(TYPE_URL.cluster, []);
    const cds = await s.next();
    s.send(TYPE_URL.cluster, [], cds.nonce, '', 'cluster outbound|8080||ratings: unsupported lb_policy');
    await until(() => logs.some((l) => l.message.includes('NACK')), 'the NACK log');
    const nackLog = logs.find((l) => l.message.includes('NACK'))!;
    expect(nackLog.fields).toMatchObject({ node: 'raw-client', typeUrl: TYPE_URL.cluster, error: 'cluster outbound|8080||ratings: unsupported lb_policy' });

    const me = cp.status().clients.find((c) => c.nodeId === 'raw-client' && c.subscriptions.some((x) => x.lastNack))!;
    const lis = me.subscriptions.find((x) => x.typeUrl === TYPE_URL.listener)!;
    expect(lis.ackedVersion).toBe(lds.version_info);
    expect(lis.lastNack).toBeUndefined();
    const clusters = me.subscriptions.find((x) => x.typeUrl === TYPE_URL.cluster)!;
    expect(clusters.wildcard).toBe(true);
    expect(clusters.lastNack).toMatchObject({ version: cds.version_info, message: 'cluster outbound|8080||ratings: unsupported lb_policy' });
    expect(clusters.lastNack!.resources).toContain('outbound|8080||ratings.default.svc.cluster.local');

    const Csds = (perType as never as { envoy: { service: { status: { v3: { ClientStatusDiscoveryService: grpc.ServiceClientConstructor } } } } })
      .envoy.service.status.v3.ClientStatusDiscoveryService;
    const csds = new Csds(`127.0.0.1:${cp.port}`, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
      FetchClientStatus(req: unknown, cb: (err: Error | null, res: { config: { node: { id: string }; generic_xds_configs: { type_url: string; name: string; client_status: string; error_state?: { details: string } }[] }[] }) => void): void;
    };
    const res = await new Promise<Parameters<Parameters<typeof csds.FetchClientStatus>[1]>[1]>((resolve, reject) =>
      csds.FetchClientStatus({}, (err, r) => (err ? reject(err) : resolve(r))),
    );
    csds.close();
    const entries = res.config.filter((c) => c.node.id === 'raw-client').flatMap((c) => c.generic_xds_configs);
    expect(entries).toContainEqual(expect.objectContaining({ type_url: TYPE_URL.listener, name: 'reviews', client_status: 'ACKED' }));
    expect(entries).toContainEqual(
      expect.objectContaining({ type_url: TYPE_URL.cluster, client_status: 'NACKED', error_state: expect.objectContaining({ details: expect.stringContaining('unsupported lb_policy') }) }),
    );
  });

  it('docs/control-plane.md describes every field /status serves: the status, each client, each subscription and its last NACK', async () => {
    const s = open();
    s.send(TYPE_URL.listener, ['reviews']);
    const lds = await s.next();
    s.send(TYPE_URL.listener, ['reviews'], lds.nonce, '', 'refused for the docs test');
    await until(() => cp.status().clients.some((c) => c.subscriptions.some((x) => x.lastNack?.message === 'refused for the docs test')), 'the NACK');
    const status = cp.status();
    const client = status.clients.find((c) => c.subscriptions.some((x) => x.lastNack?.message === 'refused for the docs test'))!;
    const sub = client.subscriptions[0]!;
    const doc = readFileSync(new URL('../../docs/control-plane.md', import.meta.url), 'utf8');
    const section = doc.split('\n## Seeing what clients were told\n')[1]?.split('\n## ')[0];
    if (section === undefined) throw new Error('docs/control-plane.md has no "## Seeing what clients were told" section');
    // The status's and a client's fields are table rows; a subscription's and a NACK's are named in the subscriptions row.
    const rows = new Set([...section.matchAll(/^\| `([A-Za-z]+)` \|/gm)].map((m) => m[1]));
    const subscriptionsRow = section.split('\n').find((l) => l.startsWith('| `subscriptions` |')) ?? '';
    const missing = [
      ...Object.keys(status).filter((k) => !rows.has(k)),
      ...Object.keys(client).filter((k) => !rows.has(k)),
      ...[...Object.keys(sub), ...Object.keys(sub.lastNack!)].filter((k) => !subscriptionsRow.includes(`\`${k}\``)),
    ];
    expect(missing).toEqual([]);
    // And it names no field the status does not have.
    const known = new Set([...Object.keys(status), ...Object.keys(client)]);
    expect([...rows].filter((k) => !known.has(k!))).toEqual([]);
  });

  it('pushes only the types an edit changed, with a new version, and keeps the last good config on a bad edit', async () => {
    const s = open();
    s.send(TYPE_URL.listener, []);
    const lds = await s.next();
    s.send(TYPE_URL.listener, [], lds.nonce, lds.version_info);
    s.send(TYPE_URL.clusterLoadAssignment, ['outbound|9080||reviews.default.svc.cluster.local']);
    const eds = await s.next();
    s.send(TYPE_URL.clusterLoadAssignment, ['outbound|9080||reviews.default.svc.cluster.local'], eds.nonce, eds.version_info);

    write(config('10.0.0.2:9080'));
    const pushed = await s.next();
    expect(pushed.type_url).toBe(TYPE_URL.clusterLoadAssignment);
    expect(Number(pushed.version_info)).toBeGreaterThan(Number(eds.version_info));
    expect(pushed.nonce).not.toBe(eds.nonce);
    expect(JSON.stringify(unpackAny(pushed.resources[0]!.type_url, pushed.resources[0]!.value))).toContain('10.0.0.2');
    // Listeners did not change: their version stays, and none was re-sent before this EDS push.
    expect(cp.snapshot.typeVersions.get(TYPE_URL.listener)).toBe(lds.version_info);

    const good = cp.snapshot.version;
    write(config('10.0.0.3:9080', '  broken:\n    endpoints: ["10.0.0.4:80"]\n    loadBalancer: { policy: fastest }\n'));
    await until(() => cp.status().lastRejectedConfig !== undefined, 'the rejection');
    expect(cp.status().lastRejectedConfig!.message).toContain('services.broken.loadBalancer.policy');
    expect(logs.some((l) => l.message.includes('rejected') && String(l.fields?.error).includes('broken'))).toBe(true);
    expect(cp.snapshot.version).toBe(good);

    // A dangling reference is rejected the same way.
    write(config('10.0.0.3:9080', '    routes: [{ route: [{ destination: { service: nowhere } }] }]\n'));
    await until(() => cp.status().lastRejectedConfig?.message.includes('nowhere') === true, 'the dangling reference rejection');
    expect(cp.snapshot.version).toBe(good);
  });

  it('answers the per-type CDS service (non-aggregated) the same way', async () => {
    const Cds = (perType as never as { envoy: { service: { cluster: { v3: { ClusterDiscoveryService: grpc.ServiceClientConstructor } } } } })
      .envoy.service.cluster.v3.ClusterDiscoveryService;
    const client = new Cds(`127.0.0.1:${cp.port}`, grpc.credentials.createInsecure()) as grpc.Client & Record<string, () => unknown>;
    const s = new RawStream(client.StreamClusters!() as grpc.ClientDuplexStream<unknown, Response>);
    streams.push(s);
    s.send('', []);
    const r = await s.next();
    expect(r.type_url).toBe(TYPE_URL.cluster);
    expect(names(r)).toEqual([
      'outbound|8080||ratings.default.svc.cluster.local',
      'outbound|9080||reviews.default.svc.cluster.local',
      'outbound|9080|v1|reviews.default.svc.cluster.local',
    ].sort());
    client.close();
  });

  it('logs and ignores a resource type it does not serve, and keeps the stream working', async () => {
    const s = open();
    const secret = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret';
    s.send(secret, ['default']);
    s.send(TYPE_URL.listener, ['reviews']);
    const r = await s.next();
    expect(r.type_url).toBe(TYPE_URL.listener);
    expect(cp.status().clients.some((c) => c.ignoredTypes.includes(secret))).toBe(true);
    expect(logs.some((l) => l.message.includes('does not serve') && l.fields?.typeUrl === secret)).toBe(true);
  });

  it('forgets clients that disconnect (no records left behind)', async () => {
    await until(() => cp.status().clients.length === 0, 'earlier streams to end');
    const many = Array.from({ length: 40 }, () => open());
    for (const s of many) s.send(TYPE_URL.listener, ['reviews']);
    await Promise.all(many.map((s) => s.next()));
    expect(cp.status().clients.length).toBe(40);
    for (const s of streams.splice(0)) s.end();
    await until(() => cp.status().clients.length === 0, 'every stream to be forgotten');
  });

  const SUBSET = 'outbound|9080|v1|reviews.default.svc.cluster.local';
  const PLAIN = 'outbound|9080||reviews.default.svc.cluster.local';
  const canary = () =>
    config('10.0.0.1:9080').replace(
      '    subsets: { v1: { labels: {} } }\n',
      '    subsets: { v1: { labels: {} } }\n    routes: [{ route: [{ destination: { service: reviews, subset: v1 } }] }]\n',
    );
  const withoutSubset = () => config('10.0.0.1:9080').replace('    subsets: { v1: { labels: {} } }\n', '');
  const routeText = (r: Response) => JSON.stringify(unpackAny(r.resources[0]!.type_url, r.resources[0]!.value));

  /** A stream subscribed to LDS, RDS `reviews` and CDS (wildcard, or `clusters`), each ACKed, on the canary config. */
  async function subscribed(clusters?: string[]): Promise<RawStream> {
    write(canary());
    const served = () => cp.snapshot.resources.get(TYPE_URL.routeConfiguration)?.get('reviews')?.any.value.toString('latin1') ?? '';
    await until(() => served().includes(SUBSET), 'the canary route');
    const s = open();
    s.send(TYPE_URL.listener, []);
    const lds = await s.next();
    s.send(TYPE_URL.listener, [], lds.nonce, lds.version_info);
    s.send(TYPE_URL.routeConfiguration, ['reviews']);
    const rds = await s.next();
    expect(routeText(rds)).toContain(SUBSET);
    s.send(TYPE_URL.routeConfiguration, ['reviews'], rds.nonce, rds.version_info);
    s.send(TYPE_URL.cluster, clusters ?? []);
    const cds = await s.next();
    expect(names(cds)).toContain(SUBSET);
    s.send(TYPE_URL.cluster, clusters ?? [], cds.nonce, cds.version_info);
    return s;
  }

  /** Responses up to and including the first route configuration; every cluster response on the way still has `SUBSET`. */
  async function untilRoutes(s: RawStream): Promise<Response> {
    for (;;) {
      const r = await s.next();
      if (r.type_url === TYPE_URL.routeConfiguration) return r;
      if (r.type_url === TYPE_URL.cluster) expect(names(r)).toContain(SUBSET);
    }
  }

  it('pushes make before break to a wildcard client: old and new clusters, then the routes, then once it ACKs them only the new clusters', async () => {
    const s = await subscribed();
    // The subset and its route go away together: its cluster must outlive every route that could still use it.
    write(withoutSubset());
    const routes = await untilRoutes(s);
    expect(routeText(routes)).not.toContain(SUBSET);
    s.send(TYPE_URL.routeConfiguration, ['reviews'], routes.nonce, routes.version_info);
    const last = await s.next();
    expect(last.type_url).toBe(TYPE_URL.cluster);
    expect(names(last)).not.toContain(SUBSET);
    expect(names(last)).toContain(PLAIN);

    // And back: the new cluster is sent before anything could route to it.
    s.send(TYPE_URL.cluster, [], last.nonce, last.version_info);
    write(canary());
    const added = await s.next();
    expect(added.type_url).toBe(TYPE_URL.cluster);
    expect(names(added)).toContain(SUBSET);
    const rerouted = await s.next();
    expect(rerouted.type_url).toBe(TYPE_URL.routeConfiguration);
    expect(routeText(rerouted)).toContain(SUBSET);
  });

  it('keeps a removed cluster for a client that names its clusters until it no longer asks for it', async () => {
    // Like gRPC and proxyless: it names the clusters its routes use, and asks for a new route's cluster only once it has the route.
    const s = await subscribed([SUBSET]);
    write(withoutSubset());
    const routes = await untilRoutes(s);
    expect(routeText(routes)).toContain(PLAIN);
    s.send(TYPE_URL.routeConfiguration, ['reviews'], routes.nonce, routes.version_info);
    // Its old routes still send to the subset while the new cluster warms: both must be there.
    const lastCds = cp.status().clients.at(-1)!.subscriptions.find((x) => x.typeUrl === TYPE_URL.cluster)!;
    s.send(TYPE_URL.cluster, [SUBSET, PLAIN], lastCds.sentNonce, lastCds.sentVersion);
    const warming = await s.next();
    expect(warming.type_url).toBe(TYPE_URL.cluster);
    expect(names(warming)).toEqual([SUBSET, PLAIN]);
    // Moved: it drops the subset, and only then is the bridge gone.
    s.send(TYPE_URL.cluster, [PLAIN], warming.nonce, warming.version_info);
    const moved = await s.next();
    expect(names(moved)).toEqual([PLAIN]);
    const status = cp.status().clients.at(-1)!.subscriptions.find((x) => x.typeUrl === TYPE_URL.cluster)!;
    expect(status.sent).toEqual([PLAIN]);
  });
});
