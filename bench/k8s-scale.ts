/**
 * Kubernetes at scale: 1,000 Services × 10 endpoints (one EndpointSlice
 * each), listed and watched, measuring the memory added and the time until
 * everything is ready, for:
 * - the data plane: a mesh with 1,000 `k8s:` services (one list+watch of
 *   slices per service, the `k8s:` provider);
 * - the control plane in Kubernetes mode over the same objects (one
 *   list+watch per kind), up to its first snapshot.
 *
 * Run: node --expose-gc --import tsx bench/k8s-scale.ts [--services 1000] [--endpoints 10]
 *
 * The fake API server (test/helpers/kube-apiserver) runs in a child process,
 * so its store and its 1,000 watch streams do not count against the process
 * measured. Memory is heap used and RSS after a full GC (--expose-gc),
 * before and after, with everything still running.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { ControlPlane } from '../src/control/control-plane.js';
import { KubernetesInput } from '../src/control/kubernetes/kubernetes-input.js';
import { TYPE_URL } from '../src/discovery/xds/envoy-protos.js';
import { createMesh } from '../src/index.js';
import { ADMIN_TOKEN, endpointSlice, FakeKubeApiServer, service } from '../test/helpers/kube-apiserver/index.js';
import { markdownTable, num } from './lib/table.js';

const { values } = parseArgs({
  options: {
    services: { type: 'string', default: '1000' },
    endpoints: { type: 'string', default: '10' },
    'fake-server': { type: 'boolean', default: false },
  },
});
const SERVICES = Number(values.services);
const ENDPOINTS = Number(values.endpoints);
const silent = { info() {}, warn() {}, error() {} };

/** Child mode: the fake API server with every object, announcing its URL and CA on stdout. */
async function serveFake(): Promise<void> {
  const api = await FakeKubeApiServer.start();
  const { findType } = await import('../test/helpers/kube-apiserver/resources.js');
  const svcType = findType('', 'v1', 'services')!;
  const sliceType = findType('discovery.k8s.io', 'v1', 'endpointslices')!;
  for (let i = 0; i < SERVICES; i++) {
    const name = `svc-${i}`;
    api.store.create(svcType, 'default', service(name, [{ name: 'http', port: 80, targetPort: 8080 }]));
    const ips = Array.from({ length: ENDPOINTS }, (_, j) => `10.${(i >> 8) & 255}.${i & 255}.${j + 1}`);
    api.store.create(sliceType, 'default', endpointSlice(`${name}-abcde`, name, ips, [{ name: 'http', port: 8080 }]));
  }
  process.stdout.write(`${JSON.stringify({ url: api.url, ca: api.ca })}\n`);
}

function gcNow(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) return;
  for (let i = 0; i < 3; i++) gc();
}

function memory(): { heap: number; rss: number } {
  gcNow();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, rss: m.rss };
}

async function poll(check: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function main(): Promise<void> {
  if ((globalThis as { gc?: unknown }).gc === undefined) process.stderr.write('warning: run with --expose-gc, or memory numbers include garbage\n');
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--fake-server', '--services', String(SERVICES), '--endpoints', String(ENDPOINTS)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const first = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the fake API server exited (${code})`)));
  });
  const { url, ca } = JSON.parse(first) as { url: string; ca: string };
  const dir = mkdtempSync(join(tmpdir(), 'proxyless-k8s-bench-'));
  const kubeconfig = join(dir, 'config');
  writeFileSync(
    kubeconfig,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'fake', cluster: { server: url, 'certificate-authority-data': Buffer.from(ca).toString('base64') } }],
      users: [{ name: 'bench', user: { token: ADMIN_TOKEN } }],
      contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'bench' } }],
      'current-context': 'fake',
    }),
  );
  const rows: string[][] = [];
  try {
    // Data plane: 1,000 k8s: services.
    const names = Array.from({ length: SERVICES }, (_, i) => `svc-${i}`);
    const before = memory();
    const t0 = performance.now();
    const mesh = createMesh({
      env: { KUBECONFIG: kubeconfig },
      logger: silent,
      config: { services: Object.fromEntries(names.map((n) => [n, { discovery: `k8s:${n}.default:80` }])) },
    });
    await mesh.ready();
    await poll(() => names.every((n) => mesh.destinations.get(n)?.upstreams.length === ENDPOINTS), 300_000);
    const ready = performance.now() - t0;
    const after = memory();
    rows.push(row(`data plane: mesh with ${num(SERVICES)} k8s: services`, ready, before, after, `${num(SERVICES * ENDPOINTS)} endpoints, ${num(SERVICES)} watches`));
    await mesh.destroy();

    // Control plane: Kubernetes mode over the same objects.
    const cpBefore = memory();
    const t1 = performance.now();
    const cp = new ControlPlane({ input: new KubernetesInput({ kubeconfig, logger: silent }), host: '127.0.0.1', port: 0, logger: silent });
    await cp.start();
    const cpReady = performance.now() - t1;
    const cpAfter = memory();
    const eds = cp.status().resources[TYPE_URL.clusterLoadAssignment]?.length ?? 0;
    rows.push(row('control plane --kubernetes, first snapshot', cpReady, cpBefore, cpAfter, `${num(eds)} EDS resources, ${num(SERVICES)} Services listed and watched`));
    cp.destroy();
  } finally {
    child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(
    `\n${num(SERVICES)} Services × ${num(ENDPOINTS)} endpoints, listed and watched (fake API server in a child process)\n\n` +
      `${markdownTable(['what', 'time to ready (ms)', 'heap added (MiB)', 'RSS added (MiB)', 'notes'], rows, ['left', 'right', 'right', 'right', 'left'])}\n`,
  );
}

function row(what: string, ms: number, before: { heap: number; rss: number }, after: { heap: number; rss: number }, notes: string): string[] {
  const mib = (b: number) => num(b / 1024 / 1024, 1);
  return [what, num(ms), mib(after.heap - before.heap), mib(after.rss - before.rss), notes];
}

if (values['fake-server']) await serveFake();
else await main();
