/**
 * The client side of `bench/instructions.ts`, run under callgrind: three
 * local replicas (their own processes, not counted), `warm` requests to let
 * the JIT settle, then `requests` more, at concurrency 50, through one of:
 * raw undici.request (round-robin by hand), mesh.request, mesh.request with
 * the full stack, or mesh.request with telemetry off.
 *
 *   tsx bench/lib/counted-client.ts <raw|mesh|full|quiet> <requests> <warm>
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Pool, request } from 'undici';
import { createMesh } from '../../src/index.js';
import { fullStack } from './full-stack.js';

const [mode = 'raw', requests = '0', warm = '0'] = process.argv.slice(2);

function startReplica(): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(fileURLToPath(new URL('./upstream.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'] });
  return new Promise((resolve) => child.on('message', (m: { type: string; port: number }) => m.type === 'ready' && resolve({ child, port: m.port })));
}

const replicas = await Promise.all([0, 1, 2].map(startReplica));
const addresses = replicas.map((r) => `127.0.0.1:${r.port}`);
const pools = addresses.map((a) => new Pool(`http://${a}`));
const mesh = createMesh({
  env: false,
  telemetry: mode === 'quiet' ? { metrics: false, tracing: false } : {},
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
const once = async (): Promise<void> => {
  if (mode === 'raw') {
    const k = rr++ % 3;
    const res = await request(`http://${addresses[k]}/bench`, { dispatcher: pools[k]! });
    await res.body.arrayBuffer();
  } else {
    const res = await mesh.request('http://echo/bench');
    await res.body.arrayBuffer();
  }
};
const run = async (n: number): Promise<void> => {
  let next = 0;
  await Promise.all(
    Array.from({ length: 50 }, async () => {
      while (next++ < n) await once();
    }),
  );
};

await run(Number(warm));
const cpu0 = process.cpuUsage();
await run(Number(requests));
const cpu = process.cpuUsage(cpu0);
// Outside valgrind the orchestrator reads this to turn instructions into µs.
if (process.env.PRINT_CPU === '1') console.log(JSON.stringify({ cpuUs: cpu.user + cpu.system, count: Number(requests) }));
await mesh.destroy();
for (const p of pools) await p.destroy();
for (const r of replicas) r.child.kill();
