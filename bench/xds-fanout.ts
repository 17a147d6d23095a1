/**
 * `npm run bench:xds`: the control plane's fan-out and the xDS client's
 * large EDS update, as issue 6's performance section asks.
 *
 * 1. Fan-out: the control plane (in this process) serves a YAML file to
 *    CLIENTS ADS streams (default 1,000) held by PROCS child processes,
 *    each stream on its own connection, subscribing as a gRPC proxyless
 *    client does (listener, route configuration, clusters, endpoints) and
 *    ACKing. Each round edits the route weights and measures, per client,
 *    the time from the file write to the client's receipt of the new route
 *    configuration: p50 / p99 / max. This includes the control plane's file
 *    watch and its 50 ms coalescing of file events.
 * 2. Memory: RSS and heap of this process (the control plane and nothing
 *    else of weight) after GC, before and with the clients connected,
 *    divided by the number of clients.
 * 3. EDS of 10,000 endpoints: the xDS client's decoder (`decodeResources`
 *    with the endpoints decoder, including protobuf decoding of the Any) on
 *    a ClusterLoadAssignment of 10,000 endpoints, median of 20; and end to
 *    end, a mesh with the xDS client: time from the file edit (10,000
 *    endpoints moved to another port) until the mesh reports the new
 *    endpoints version accepted (file watch, snapshot build, encode, send,
 *    decode, translate and apply).
 *
 * The numbers are propagation times and memory, not CPU ratios; the machine
 * is shared, so run it when nothing else is busy.
 */
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ControlPlane } from '../src/control/control-plane.js';
import { decodeResources, decoderFor } from '../src/discovery/xds/decode-response.js';
import { packAny, TYPE_URL } from '../src/discovery/xds/envoy-protos.js';
import { createMesh } from '../src/index.js';
import { stderrLogger } from '../src/telemetry/logger.js';
import { installExitHandlers, killAll, nextMessage, spawnNode } from './lib/children.js';
import { median } from './lib/report.js';
import { markdownTable, num } from './lib/table.js';

const CLIENTS = Number(process.env.CLIENTS ?? 1000);
const PROCS = Number(process.env.PROCS ?? 4);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const ENDPOINTS = 10_000;
const LISTENER = 'reviews:9080';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const dir = mkdtempSync(join(tmpdir(), 'proxyless-bench-xds-'));
const file = join(dir, 'mesh.yaml');
installExitHandlers(() => rmSync(dir, { recursive: true, force: true }));

function write(text: string): number {
  writeFileSync(`${file}.tmp`, text);
  const at = performance.timeOrigin + performance.now();
  renameSync(`${file}.tmp`, file);
  return at;
}

function splitConfig(v1Weight: number): string {
  return `services:
  reviews:
    port: 9080
    endpoints:
      - { address: 10.0.0.1, port: 8080, labels: { version: v1 } }
      - { address: 10.0.0.2, port: 8080, labels: { version: v2 } }
    subsets:
      v1: { labels: { version: v1 } }
      v2: { labels: { version: v2 } }
    routes:
      - route:
          - { destination: { subset: v1 }, weight: ${v1Weight} }
          - { destination: { subset: v2 }, weight: ${100 - v1Weight} }
`;
}

function bigConfig(port: number): string {
  const lines: string[] = [];
  for (let i = 0; i < ENDPOINTS; i++) lines.push(`      - 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:${port}`);
  return `services:\n  reviews:\n    port: 9080\n    endpoints:\n${lines.join('\n')}\n`;
}

function memory(): { rss: number; heap: number } {
  gc();
  gc();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

async function expect<T>(child: ReturnType<typeof spawnNode>, kind: string, ms: number): Promise<T> {
  for (;;) {
    const got = await nextMessage<{ kind: string; message?: string }>(child, ms);
    if ('gone' in got) throw new Error(`client process ${child.pid}: ${got.gone} waiting for ${kind}`);
    if (got.message.kind === 'error') throw new Error(`client process ${child.pid}: ${got.message.message}`);
    if (got.message.kind === kind) return got.message as T;
  }
}

async function fanout(cp: ControlPlane, address: string): Promise<{ rows: string[][]; perClient: { rss: number; heap: number } }> {
  const names: Record<string, string[]> = {};
  const resources = cp.status().resources;
  for (const type of Object.values(TYPE_URL)) if (resources[type] !== undefined) names[type] = resources[type]!;
  const before = memory();
  const script = fileURLToPath(new URL('./lib/xds-fanout-client.ts', import.meta.url));
  const per = Math.ceil(CLIENTS / PROCS);
  const children = Array.from({ length: PROCS }, (_, i) =>
    spawnNode(script, [address, String(Math.min(per, CLIENTS - i * per)), JSON.stringify(names)]),
  );
  await Promise.all(children.map((c) => expect(c, 'synced', 120_000)));
  // Let the server settle (ACK bookkeeping, buffers) before measuring.
  await new Promise((r) => setTimeout(r, 2000));
  const after = memory();
  const perClient = { rss: (after.rss - before.rss) / CLIENTS, heap: (after.heap - before.heap) / CLIENTS };
  process.stderr.write(`fan-out: ${CLIENTS} clients synced\n`);

  const rows: string[][] = [];
  const all: number[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    await Promise.all(
      children.map((c) => {
        c.send({ kind: 'arm' });
        return expect(c, 'armed', 30_000);
      }),
    );
    const receipts = children.map((c) => expect<{ at: number[] }>(c, 'received', 60_000));
    const t0 = write(splitConfig(round % 2 === 0 ? 80 : 20));
    const latencies = (await Promise.all(receipts)).flatMap((r) => r.at.map((at) => at - t0)).sort((a, b) => a - b);
    all.push(...latencies);
    rows.push([`change ${round} → ${latencies.length} clients`, num(percentile(latencies, 50)), num(percentile(latencies, 99)), num(latencies.at(-1))]);
  }
  all.sort((a, b) => a - b);
  rows.push([`all ${ROUNDS} changes`, num(percentile(all, 50)), num(percentile(all, 99)), num(all.at(-1))]);
  for (const c of children) c.disconnect();
  return { rows, perClient };
}

function edsDecodeMs(): number {
  const assignment = {
    cluster_name: 'outbound|9080||reviews',
    endpoints: [
      {
        locality: { region: 'r', zone: 'z', sub_zone: '' },
        lb_endpoints: Array.from({ length: ENDPOINTS }, (_, i) => ({
          endpoint: { address: { socket_address: { address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, port_value: 8080 } } },
          health_status: 'HEALTHY',
          load_balancing_weight: { value: 1 },
        })),
      },
    ],
  };
  const any = packAny(TYPE_URL.clusterLoadAssignment, assignment);
  const times: number[] = [];
  for (let i = 0; i < 20; i++) {
    const start = performance.now();
    const decoded = decodeResources(TYPE_URL.clusterLoadAssignment, [any], decoderFor('endpoints'), () => {});
    times.push(performance.now() - start);
    if (decoded.errors.length > 0 || decoded.received.size !== 1) throw new Error(`EDS decode failed: ${decoded.errors.join('; ')}`);
  }
  return median(times);
}

async function edsEndToEnd(address: string): Promise<number[]> {
  write(bigConfig(8080));
  await new Promise((r) => setTimeout(r, 1000));
  const mesh = createMesh({
    env: { MESH_XDS_SERVER: address, MESH_XDS_LISTENERS: LISTENER, MESH_XDS_NODE_ID: 'bench-eds' },
    logger: stderrLogger('error'),
  });
  try {
    await mesh.ready();
    const times: number[] = [];
    for (let round = 0; round < 3; round++) {
      const version = mesh.xdsStatus()?.types.endpoints.version;
      const t0 = write(bigConfig(8081 + round));
      const end = Date.now() + 30_000;
      while (mesh.xdsStatus()?.types.endpoints.version === version) {
        if (Date.now() > end) throw new Error('the mesh did not accept the 10,000-endpoint update within 30 s');
        await new Promise((r) => setImmediate(r));
      }
      times.push(performance.timeOrigin + performance.now() - t0);
      await new Promise((r) => setTimeout(r, 500));
    }
    return times;
  } finally {
    await mesh.destroy();
  }
}

async function main(): Promise<void> {
  write(splitConfig(80));
  const cp = new ControlPlane({ configFile: file, host: '127.0.0.1', port: 0, logger: stderrLogger('error') });
  const address = `127.0.0.1:${await cp.start()}`;
  try {
    const { rows, perClient } = await fanout(cp, address);
    const decode = edsDecodeMs();
    const e2e = await edsEndToEnd(address);
    const out = process.stdout;
    out.write(`\n### Config change to ${CLIENTS} ADS clients (${PROCS} processes), file edit → client receipt\n\n`);
    out.write(`${markdownTable(['change', 'p50 ms', 'p99 ms', 'max ms'], rows, ['left', 'right', 'right', 'right'])}\n`);
    out.write(`\n### Control-plane memory per connected client\n\n`);
    out.write(
      `${markdownTable(
        ['measure', 'per client'],
        [
          ['RSS delta / clients', `${num(perClient.rss / 1024, 1)} KiB`],
          ['heap used delta / clients', `${num(perClient.heap / 1024, 1)} KiB`],
        ],
        ['left', 'right'],
      )}\n`,
    );
    out.write(`\n### EDS update of ${ENDPOINTS.toLocaleString('en')} endpoints\n\n`);
    out.write(
      `${markdownTable(
        ['what', 'ms'],
        [
          ['xDS client decode (protobuf + validation into the model), median of 20', num(decode, 1)],
          ['end to end: file edit → mesh accepted the new endpoints (median of 3)', num(median(e2e), 0)],
        ],
        ['left', 'right'],
      )}\n`,
    );
  } finally {
    await cp.close();
  }
}

main().then(
  () => {
    killAll();
    process.exit(0);
  },
  (err) => {
    process.stderr.write(`bench:xds: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    killAll();
    process.exit(1);
  },
);
