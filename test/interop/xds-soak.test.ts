/**
 * Thousands of config edits served to connected ADS clients that ACK every
 * response: every edit is pushed and acknowledged, and the control plane's
 * heap and handles stay within a small bound. (The clients are raw grpc-js
 * streams, so the process holds nothing but the control plane and them;
 * real xDS clients following edits are the other interop tests' subject.)
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlPlane } from '../../src/control/control-plane.js';
import { adsPackageDefinition, TYPE_URL } from '../../src/discovery/xds/envoy-protos.js';
import { stderrLogger } from '../../src/telemetry/logger.js';
import { type EchoServer, splitConfig, XdsWorkspace } from './xds-fixture.js';

const EDITS = 2000;
const CLIENTS = 3;
const CLUSTERS = ['', 'v1', 'v2'].map((s) => `outbound|9080|${s}|reviews.default.svc.cluster.local`);

type Response = { type_url: string; nonce: string; version_info: string };

/** Heap plus Buffer memory: encoded resources live in Buffers, outside the JS heap. */
function used(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

function collectGarbage(): () => void {
  setFlagsFromString('--expose_gc');
  return runInNewContext('gc') as () => void;
}

describe('control plane under thousands of edits', () => {
  const ws = new XdsWorkspace();
  let v1: EchoServer;
  let v2: EchoServer;
  let cp: ControlPlane;
  let ads: grpc.Client;
  const streams: grpc.ClientDuplexStream<unknown, Response>[] = [];

  beforeAll(async () => {
    v1 = await ws.startEcho('v1');
    v2 = await ws.startEcho('v2');
    ws.writeConfig(splitConfig(v1, v2, [50, 50]));
    cp = new ControlPlane({ configFile: ws.configFile, host: '127.0.0.1', port: 0, logger: stderrLogger('silent'), debounceMs: 0 });
    const port = await cp.start();
    const pkg = grpc.loadPackageDefinition(adsPackageDefinition()) as never as {
      envoy: { service: { discovery: { v3: { AggregatedDiscoveryService: grpc.ServiceClientConstructor } } } };
    };
    ads = new pkg.envoy.service.discovery.v3.AggregatedDiscoveryService(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    for (let i = 0; i < CLIENTS; i++) {
      const node = { id: `soak-${i}` };
      const names: Record<string, string[]> = {
        [TYPE_URL.listener]: [],
        [TYPE_URL.cluster]: [],
        [TYPE_URL.routeConfiguration]: ['reviews'],
        [TYPE_URL.clusterLoadAssignment]: CLUSTERS,
      };
      const s = (ads as never as { StreamAggregatedResources(): grpc.ClientDuplexStream<unknown, Response> }).StreamAggregatedResources();
      s.on('error', () => {});
      s.on('data', (r: Response) =>
        s.write({ node, type_url: r.type_url, response_nonce: r.nonce, version_info: r.version_info, resource_names: names[r.type_url] }),
      );
      for (const [type_url, resource_names] of Object.entries(names)) s.write({ node, type_url, resource_names });
      streams.push(s);
    }
  });

  afterAll(async () => {
    for (const s of streams) s.end();
    ads?.close();
    cp?.destroy();
    ws.close();
  });

  async function waitFor(check: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  const allAcked = () => {
    const clients = cp.status().clients;
    return (
      clients.length === CLIENTS &&
      clients.every((c) =>
        c.subscriptions.length === 4 &&
        c.subscriptions.every((s) => s.lastNack === undefined && s.ackedVersion === cp.snapshot.typeVersions.get(s.typeUrl as never)),
      )
    );
  };

  async function edit(i: number): Promise<void> {
    const before = cp.snapshot.version;
    // Route weights and endpoint weights both move, so RDS and EDS are pushed each time.
    ws.writeConfig(splitConfig(v1, v2, [1 + (i % 97), 1 + ((i * 7) % 89)]).replace(`port: ${v1.port} }`, `port: ${v1.port}, weight: ${1 + (i % 13)} }`));
    await waitFor(() => cp.snapshot.version !== before, `edit ${i} to be served`);
  }

  it(`serves ${EDITS} edits, every one acknowledged, without growing`, async () => {
    const gc = collectGarbage();
    await waitFor(allAcked, 'the first ACKs');
    for (let i = 0; i < 200; i++) await edit(i);
    await waitFor(allAcked, 'the warm-up ACKs');
    gc();
    const heapBefore = used();
    const handlesBefore = process.getActiveResourcesInfo().length;
    for (let i = 200; i < EDITS; i++) await edit(i);
    await waitFor(allAcked, 'every client to ACK the last edit');
    expect(Number(cp.snapshot.version)).toBeGreaterThanOrEqual(EDITS);
    gc();
    const growth = used() - heapBefore;
    // A snapshot is about 5 KB of encoded resources plus its maps; keeping one per edit would add over 15 MB.
    expect(growth).toBeLessThan(4 * 1024 * 1024);
    expect(process.getActiveResourcesInfo().length).toBeLessThanOrEqual(handlesBefore + 3);
  });
});
