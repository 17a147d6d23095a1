/**
 * A long-lived xDS client must not leak (grpc-node #2892): repeated control
 * plane restarts and many updates leave the same number of stream
 * listeners, no pending timers, and a bounded number of handles.
 */
import { afterEach, expect, test } from 'vitest';
import { parseBootstrap } from '../../src/discovery/xds/bootstrap.js';
import { XdsClient } from '../../src/discovery/xds/xds-client.js';
import { cluster, endpoints, listener, routeConfig, TestAdsServer, TYPE_URL } from '../helpers/ads-server.js';

const LISTENER = 'reviews:9080';
const quiet = { info() {}, warn() {}, error() {} };
let client: XdsClient | undefined;
let ads: TestAdsServer | undefined;

afterEach(async () => {
  client?.close();
  await ads?.stop();
});

function serve(server: TestAdsServer, port: number): void {
  server.set(TYPE_URL.listener, [listener(LISTENER, { rds: 'r' })]);
  server.set(TYPE_URL.routeConfiguration, [
    routeConfig('r', [{ name: 'vh', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'c' } }] }]),
  ]);
  server.set(TYPE_URL.cluster, [cluster('c')]);
  server.set(TYPE_URL.clusterLoadAssignment, [endpoints('c', [port])]);
}

async function until(check: () => boolean, what: string): Promise<void> {
  // Generous: under the full suite on a 2-core machine a thousand updates can take a while.
  const end = Date.now() + 45_000;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function handles(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}

test('repeated reconnects and a thousand updates leave no listeners, timers or handles behind', async () => {
  ads = new TestAdsServer();
  await ads.start(0);
  serve(ads, 1000);
  const applied: unknown[] = [];
  client = new XdsClient({
    bootstrap: parseBootstrap(JSON.stringify({ xds_servers: [{ server_uri: ads.address, channel_creds: [{ type: 'insecure' }] }] }), 'test'),
    listeners: [LISTENER],
    apply: (c) => applied.push(c),
    logger: quiet,
    backoff: { baseMs: 20, maxMs: 100 },
  });
  const c = client;
  c.start();
  await until(() => c.status().types.endpoints.received.length === 1, 'the first endpoints');
  const listenersAtStart = c.internals.streamListeners;
  expect(listenersAtStart).toBeGreaterThan(0);

  const server = ads;
  let before: Record<string, number> | undefined;
  for (let round = 0; round < 12; round++) {
    await server.stop();
    await until(() => c.status().state === 'reconnecting', 'the client to notice');
    await server.start();
    serve(server, 1000 + round);
    await until(() => c.status().state === 'connected' && c.status().types.endpoints.version !== '', 'reconnection');
    await until(() => c.internals.pendingTimers === 0, 'timers to settle');
    expect(c.internals.streamListeners).toBe(listenersAtStart);
    if (round === 2) before = handles();
  }
  const after = handles();
  // Sockets and timers may come and go, but do not grow with the number of reconnects.
  for (const kind of ['Timeout', 'TCPSocketWrap', 'TCPServerWrap']) {
    expect(after[kind] ?? 0).toBeLessThanOrEqual((before?.[kind] ?? 0) + 2);
  }
  expect(c.status().streamsOpened).toBeGreaterThanOrEqual(13);

  // A thousand EDS updates: the client's own bookkeeping stays flat.
  const base = Number(c.status().types.endpoints.version);
  for (let i = 0; i < 1000; i++) server.set(TYPE_URL.clusterLoadAssignment, [endpoints('c', [2000 + (i % 50)])]);
  // At least base + 1000: under load the client may not yet have had the server's latest version when
  // `base` was read, and then the last update carries a higher number than base + 1000.
  await until(() => Number(c.status().types.endpoints.version) >= base + 1000, 'the last update');
  expect(c.internals.streamListeners).toBe(listenersAtStart);
  expect(c.internals.pendingTimers).toBe(0);
  expect(c.internals.watchers).toBe(0);
}, 60_000);
