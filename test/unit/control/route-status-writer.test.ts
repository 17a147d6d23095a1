/**
 * RouteStatusWriter against the fake API server: it patches the status
 * subresource against the version it read, leaves a route someone changed
 * meanwhile to the next rebuild (409, nothing logged), queues a second
 * verdict behind a write in flight, and, without RBAC for status, logs the
 * rule to grant once per kind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTE_CONTROLLER_NAME } from '../../../src/control/kubernetes/route-status.js';
import { type KeptRoute, RouteStatusWriter } from '../../../src/control/kubernetes/route-status-writer.js';
import { WATCHED_KINDS } from '../../../src/control/kubernetes/watched-kinds.js';
import { KubeApiClient } from '../../../src/discovery/kubernetes/api-client.js';
import { loadClusterConfig } from '../../../src/discovery/kubernetes/cluster-config.js';
import type { MeshLogger } from '../../../src/telemetry/logger.js';
import { FakeKubeApiServer, type KubeObject, writeKubeconfig } from '../../helpers/kube-apiserver/index.js';
import { findType } from '../../helpers/kube-apiserver/resources.js';

const HTTP_ROUTE = WATCHED_KINDS.find((k) => k.kind === 'HTTPRoute')!;
const TYPE = findType('gateway.networking.k8s.io', 'v1', 'httproutes')!;
const NOW = '2026-12-03T10:00:00Z';

let api: FakeKubeApiServer;
const disposers: (() => void)[] = [];

async function clientFor(token?: string): Promise<KubeApiClient> {
  const kc = writeKubeconfig(api, token === undefined ? {} : { token });
  disposers.push(kc.dispose);
  return new KubeApiClient(await loadClusterConfig({}, { kubeconfig: kc.path }));
}

function warnings(): { logger: MeshLogger; seen: string[] } {
  const seen: string[] = [];
  return { seen, logger: { info() {}, error() {}, warn: (m, f) => void seen.push(`${m} ${JSON.stringify(f ?? {})}`) } };
}

function createRoute(name: string): KubeObject {
  return api.store.create(TYPE, 'default', {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name },
    spec: { parentRefs: [{ group: '', kind: 'Service', name: 'reviews' }], rules: [{ backendRefs: [{ name: 'reviews', port: 9080 }] }] },
  });
}

const kept = (o: KubeObject) => o as unknown as KeptRoute;

beforeAll(async () => {
  api = await FakeKubeApiServer.start();
});

afterAll(async () => {
  await api?.close();
  for (const d of disposers) d();
});

describe('RouteStatusWriter', () => {
  it('patches the status subresource against the version read, and writes nothing when it would not change', async () => {
    const client = await clientFor();
    const { logger, seen } = warnings();
    const writer = new RouteStatusWriter({ client: async () => client, logger, now: () => NOW });
    const route = createRoute('written');
    await writer.update(HTTP_ROUTE, kept(route), { accepted: true });
    const stored = api.store.get(TYPE, 'default', 'written') as KubeObject & { status: { parents: { controllerName: string; conditions: unknown[] }[] } };
    expect(stored.status.parents).toHaveLength(1);
    expect(stored.status.parents[0]!.controllerName).toBe(ROUTE_CONTROLLER_NAME);
    expect(stored.status.parents[0]!.conditions).toContainEqual(expect.objectContaining({ type: 'Accepted', status: 'True', observedGeneration: 1, lastTransitionTime: NOW }));
    // A status write is not a new generation.
    expect(stored.metadata.generation).toBe(1);
    expect(writer.update(HTTP_ROUTE, kept(stored), { accepted: true })).toBeUndefined();
    expect(seen).toEqual([]);
    writer.close();
    await client.destroy();
  });

  it('leaves a route changed since it was read to the next rebuild: 409, nothing written, nothing logged', async () => {
    const client = await clientFor();
    const { logger, seen } = warnings();
    const writer = new RouteStatusWriter({ client: async () => client, logger, now: () => NOW });
    const read = createRoute('raced');
    api.store.replace(TYPE, 'default', 'raced', { ...read, metadata: { ...read.metadata, resourceVersion: undefined }, spec: { parentRefs: [] } });
    await writer.update(HTTP_ROUTE, kept(read), { accepted: true });
    expect(api.store.get(TYPE, 'default', 'raced').status).toBeUndefined();
    expect(seen).toEqual([]);
    writer.close();
    await client.destroy();
  });

  it('queues a verdict that arrives while the route is being written, and writes it after', async () => {
    const client = await clientFor();
    const { logger } = warnings();
    const writer = new RouteStatusWriter({ client: async () => client, logger, now: () => NOW });
    const route = createRoute('queued');
    const release = api.hold((path) => path.endsWith('/queued/status'));
    const first = writer.update(HTTP_ROUTE, kept(route), { accepted: true });
    expect(first).toBeDefined();
    const refused = { accepted: false as const, issues: [{ path: 'HTTPRoute default/queued.spec.rules[0]', message: 'is not supported' }], servingGeneration: 1 };
    expect(writer.update(HTTP_ROUTE, kept(route), refused)).toBeUndefined();
    release();
    await first;
    // The queued write went with the version it was given, which the first write made stale: 409, and the
    // watch event of the first write brings the next rebuild. Given the current version, it lands.
    await writer.settled();
    expect(api.requests.filter((r) => r.path.endsWith('/queued/status'))).toHaveLength(2);
    const current = api.store.get(TYPE, 'default', 'queued');
    await writer.update(HTTP_ROUTE, kept(current), refused);
    const parents = (api.store.get(TYPE, 'default', 'queued').status as { parents: { conditions: { type: string; status: string }[] }[] }).parents;
    expect(parents[0]!.conditions.find((c) => c.type === 'Accepted')?.status).toBe('False');
    writer.close();
    await client.destroy();
  });

  it('without RBAC for route status: one warning per kind naming the rule to grant', async () => {
    api.tokens.set('no-status', { allow: ['httproutes'] });
    const client = await clientFor('no-status');
    const { logger, seen } = warnings();
    const writer = new RouteStatusWriter({ client: async () => client, logger, now: () => NOW });
    await writer.update(HTTP_ROUTE, kept(createRoute('forbidden-a')), { accepted: true });
    await writer.update(HTTP_ROUTE, kept(createRoute('forbidden-b')), { accepted: true });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toContain('grant patch on httproutes.gateway.networking.k8s.io/status');
    expect(seen[0]).toContain('cannot patch resource \\"httproutes/status\\"');
    writer.close();
    await client.destroy();
  });
});
