/**
 * CPU profile of the client side: a fixed number of requests at concurrency
 * 50 to three local replicas, through raw undici.request or mesh.request,
 * then self time aggregated by function so the mesh's own frames show.
 *
 *   npx tsx bench/profile.ts [raw|mesh|full|quiet|otel|otel-sdk] [requests] [--alloc]
 *
 * `--alloc` samples allocations instead of CPU (V8's sampling heap
 * profiler, every 256 bytes on average): bytes allocated per request by
 * function. Unlike CPU time it barely moves when other processes share
 * the machine, so it is the steadier guide to what the path costs the GC.
 *
 * `full` is mesh.request with the full-stack row's routes and resilience;
 * `quiet` has telemetry off; `otel` is telemetry fully on as proxyless/otel
 * sets it up, `otel-sdk` with an application's own SDK provider, both
 * batching every span to an exporter that drops it (lib/dropping-tracer.ts).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { Session } from 'node:inspector/promises';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Pool, request } from 'undici';
import { createMesh } from '../src/index.js';
import { droppingTracerProvider } from './lib/dropping-tracer.js';
import { fullStack } from './lib/full-stack.js';

const positional = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const alloc = process.argv.includes('--alloc');
const mode = positional[0] ?? 'mesh';
const total = Number(positional[1] ?? 150_000);

function startReplica(): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(fileURLToPath(new URL('./lib/upstream.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
  });
  return new Promise((resolve) => child.on('message', (m: { type: string; port: number }) => m.type === 'ready' && resolve({ child, port: m.port })));
}

const replicas = await Promise.all([0, 1, 2].map(startReplica));
const addresses = replicas.map((r) => `127.0.0.1:${r.port}`);
const pools = addresses.map((a) => new Pool(`http://${a}`));
const telemetry =
  mode === 'quiet'
    ? { metrics: false, tracing: false }
    : mode === 'otel' || mode === 'otel-sdk'
      ? { tracing: { tracerProvider: (await droppingTracerProvider(mode === 'otel' ? 'proxyless' : 'sdk')) as never } }
      : {};
const mesh = createMesh({
  env: false,
  telemetry,
  config: {
    services: {
      echo: {
        endpoints: addresses,
        loadBalancer: { policy: 'round-robin' },
        ...(mode === 'full' ? (fullStack('/bench') as object) : {}),
      },
    },
  },
});
await mesh.ready();

let rr = 0;
const once = async () => {
  if (mode === 'raw') {
    const k = rr++ % 3;
    const res = await request(`http://${addresses[k]}/bench`, { dispatcher: pools[k]! });
    await res.body.arrayBuffer();
  } else {
    const res = await mesh.request('http://echo/bench');
    await res.body.arrayBuffer();
  }
};
const run = async (n: number) => {
  let next = 0;
  await Promise.all(Array.from({ length: 50 }, async () => { while (next++ < n) await once(); }));
};

await run(20_000); // warm-up
const session = new Session();
session.connect();
if (alloc) {
  await session.post('HeapProfiler.enable');
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 256,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  await run(total);
  const { profile } = await session.post('HeapProfiler.stopSampling');
  const bytes = new Map<string, number>();
  type HeapNode = (typeof profile)['head'];
  const walk = (n: HeapNode) => {
    const f = n.callFrame;
    const file = f.url.replace(/^.*\/(node_modules\/[^/]+|src|bench)\//, '$1/');
    const key = `${f.functionName || '(anon)'} ${file}:${f.lineNumber + 1}`;
    bytes.set(key, (bytes.get(key) ?? 0) + n.selfSize);
    for (const c of n.children) walk(c);
  };
  walk(profile.head);
  const all = [...bytes.values()].reduce((a, b) => a + b, 0);
  console.log(`${mode}: ${(all / total).toFixed(0)} bytes allocated per request (sampled)`);
  const rows = [...bytes].sort((a, b) => b[1] - a[1]).filter(([k], i) => i < 12 || / src\//.test(k)).slice(0, 30);
  for (const [k, v] of rows) console.log(`${(v / total).toFixed(0).padStart(6)} B/req  ${(100 * v / all).toFixed(1).padStart(5)}%  ${k}`);
  const meshBytes = [...bytes].filter(([k]) => / src\//.test(k)).reduce((a, [, v]) => a + v, 0);
  console.log(`allocated in src/ (the mesh's own code): ${(meshBytes / total).toFixed(0)} B/req`);
  await mesh.destroy();
  for (const p of pools) await p.destroy();
  for (const r of replicas) r.child.kill();
  process.exit(0);
}
await session.post('Profiler.enable');
await session.post('Profiler.setSamplingInterval', { interval: 100 });
await session.post('Profiler.start');
// Garbage collections during the run: how much the path allocates shows up here first.
let gcCount = 0;
let gcMs = 0;
const gcWatch = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gcCount++;
    gcMs += e.duration;
  }
});
gcWatch.observe({ entryTypes: ['gc'] });
const cpu0 = process.cpuUsage();
const t0 = performance.now();
await run(total);
const cpu = process.cpuUsage(cpu0);
const ms = performance.now() - t0;
const { profile } = await session.post('Profiler.stop');
gcWatch.disconnect();

const self = new Map<string, number>();
const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const dt = profile.timeDeltas ?? [];
profile.samples?.forEach((id, i) => {
  const n = nodes.get(id)!;
  const f = n.callFrame;
  const file = f.url.replace(/^.*\/(node_modules\/[^/]+|src|bench)\//, '$1/');
  const key = `${f.functionName || '(anon)'} ${file}:${f.lineNumber + 1}`;
  self.set(key, (self.get(key) ?? 0) + (dt[i] ?? 0));
});
const totalUs = [...self.values()].reduce((a, b) => a + b, 0);
console.log(`${mode}: ${total} requests in ${ms.toFixed(0)} ms, ${(total / ms * 1000).toFixed(0)} req/s, CPU ${((cpu.user + cpu.system) / total).toFixed(2)} µs/req`);
const rows = [...self].sort((a, b) => b[1] - a[1]).filter(([k], i) => i < 12 || / src\//.test(k)).slice(0, 30);
for (const [k, v] of rows) console.log(`${((v / total)).toFixed(3).padStart(7)} µs/req  ${(100 * v / totalUs).toFixed(1).padStart(5)}%  ${k}`);
const meshUs = [...self].filter(([k]) => / src\//.test(k)).reduce((a, [, v]) => a + v, 0);
console.log(`self time in src/ (the mesh's own code): ${(meshUs / total).toFixed(3)} µs/req`);
console.log(`garbage collections: ${gcCount} (${((gcMs * 1000) / total).toFixed(2)} µs/req)`);

await mesh.destroy();
for (const p of pools) await p.destroy();
for (const r of replicas) r.child.kill();
