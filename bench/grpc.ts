/**
 * gRPC unary calls through the mesh against raw grpc-js, in one run.
 *
 * Each server is its own process (raw grpc-js, or mesh.grpc.server() with
 * the inbound pipeline); this process is the client, raw grpc-js or
 * mesh.grpc.client() with the outbound pipeline (route, deadline, retry
 * policy, pick, outlier detection, metrics). Closed loop at a fixed
 * concurrency. Rounds rotate the four client/server pairs, and each ratio
 * is the median of per-round ratios to raw → raw in the same round, with a
 * 90% bootstrap interval over rounds. There are `--processes` servers of
 * each kind, one set per round in turn: two processes of one server differ
 * in speed for their whole life (docs/performance.md), so a single pair of
 * servers would measure their luck as much as the mesh. CPU per call is this process's CPU
 * plus the server process's (from /proc), divided by calls completed.
 * Target (issue 9): mesh → mesh ≥ 0.90× raw → raw at concurrency 50.
 *
 *   npm run bench:grpc [-- --rounds 12 --ms 1000 --concurrency 50 --processes 3]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { createMesh, type Mesh } from '../src/index.js';
import { BenchClient } from './lib/grpc-bench-service.js';
import { applyBenchNodeFlags, benchNodeFlags, describeNodeFlags } from './lib/node-flags.js';
import { bootstrap, median } from './lib/report.js';
import { markdownTable } from './lib/table.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '12' },
    ms: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '50' },
    processes: { type: 'string', default: '3' },
  },
});
const PROCESSES = Math.max(1, Number(values.processes));
const ROUNDS = Number(values.rounds);
const RUN_MS = Number(values.ms);
const CONCURRENCY = Number(values.concurrency);
const SERVER = fileURLToPath(new URL('./lib/grpc-bench-server.ts', import.meta.url));
/** Linux's USER_HZ: /proc reports CPU time in these ticks. */
const TICK_US = 10_000;

// The clients run here.
applyBenchNodeFlags();
const children: ChildProcess[] = [];
process.on('exit', () => {
  for (const c of children) c.kill();
});

interface Server {
  readonly port: number;
  readonly pid: number;
}

async function startServer(variant: 'raw' | 'mesh'): Promise<Server> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...benchNodeFlags(), SERVER, variant], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  return { port: (JSON.parse(line.toString()) as { port: number }).port, pid: child.pid! };
}

/** utime + stime of a process, in µs. */
function processCpuUs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_US;
}

type Unary = (req: unknown, cb: (err: grpc.ServiceError | null) => void) => void;

interface Pair {
  readonly name: string;
  readonly server: Server;
  readonly call: Unary;
}

const meshes: Mesh[] = [];

function rawClient(server: Server): Unary {
  const client = new BenchClient(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure()) as unknown as Record<string, Unary>;
  return client.echo!.bind(client);
}

function meshClient(server: Server): Unary {
  const mesh = createMesh({ env: false, config: { services: { bench: { endpoints: [`127.0.0.1:${server.port}`] } } } });
  meshes.push(mesh);
  const client = mesh.grpc.client(BenchClient, 'bench') as unknown as Record<string, Unary>;
  return client.echo!.bind(client);
}

interface RunResult {
  readonly perSecond: number;
  readonly cpuUsPerCall: number;
}

/** Closed loop for `ms`: calls per second and CPU per call (client and server), failing on any error. */
async function run(pair: Pair, ms: number): Promise<RunResult> {
  const request = { text: 'hello', n: 7 };
  const end = performance.now() + ms;
  let done = 0;
  const cpu0 = process.cpuUsage();
  const server0 = processCpuUs(pair.server.pid);
  const t0 = performance.now();
  await Promise.all(
    Array.from(
      { length: CONCURRENCY },
      () =>
        new Promise<void>((resolve, reject) => {
          const next = (): void => {
            if (performance.now() >= end) {
              resolve();
              return;
            }
            pair.call(request, (err) => {
              if (err) {
                reject(err);
                return;
              }
              done++;
              next();
            });
          };
          next();
        }),
    ),
  );
  const elapsed = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const serverUs = processCpuUs(pair.server.pid) - server0;
  return { perSecond: (done * 1000) / elapsed, cpuUsPerCall: (cpu.user + cpu.system + serverUs) / done };
}

/** One set of the four pairings per server process pair; round r uses set r mod PROCESSES. */
const sets: Pair[][] = [];
for (let k = 0; k < PROCESSES; k++) {
  const raw = await startServer('raw');
  const meshed = await startServer('mesh');
  sets.push([
    { name: 'raw grpc-js → raw grpc-js', server: raw, call: rawClient(raw) },
    { name: 'mesh client → raw grpc-js', server: raw, call: meshClient(raw) },
    { name: 'raw grpc-js → mesh server', server: meshed, call: rawClient(meshed) },
    { name: 'mesh client → mesh server', server: meshed, call: meshClient(meshed) },
  ]);
}
const pairs = sets[0]!;
process.stderr.write('warming up\n');
for (const set of sets) for (const p of set) await run(p, 1500);

const results: RunResult[][] = pairs.map(() => []);
for (let r = 0; r < ROUNDS; r++) {
  const set = sets[r % sets.length]!;
  // Rotate the order, so no pair always runs first (or last) in a round.
  for (let k = 0; k < set.length; k++) {
    const i = (k + r) % set.length;
    results[i]!.push(await run(set[i]!, RUN_MS));
  }
  process.stderr.write(`round ${r + 1}/${ROUNDS}\n`);
}

const base = results[0]!;
const rows = pairs.map((p, i) => {
  const runs = results[i]!;
  const ratios = runs.map((x, k) => x.perSecond / base[k]!.perSecond);
  const [lo, hi] = i === 0 ? [1, 1] : bootstrap([ratios], ([xs]) => median(xs!));
  const ratio = median(ratios);
  const cpu = median(runs.map((x) => x.cpuUsPerCall));
  const added = runs.map((x, k) => x.cpuUsPerCall - base[k]!.cpuUsPerCall);
  const [alo, ahi] = i === 0 ? [0, 0] : bootstrap([added], ([xs]) => median(xs!));
  return [
    p.name,
    Math.round(median(runs.map((x) => x.perSecond))).toLocaleString('en-US'),
    `${ratio.toFixed(2)}×`,
    i === 0 ? '—' : `${lo.toFixed(2)}× … ${hi.toFixed(2)}×`,
    cpu.toFixed(1),
    i === 0 ? '—' : `${median(added) >= 0 ? '+' : ''}${median(added).toFixed(1)} (${alo.toFixed(1)} … ${ahi.toFixed(1)})`,
  ];
});

console.log(
  `gRPC unary calls, ${ROUNDS} rotating rounds of ${RUN_MS} ms over ${PROCESSES} pair(s) of server processes, concurrency ${CONCURRENCY}, ~10-byte messages, client and server in separate processes, plaintext; ${describeNodeFlags()}:\n`,
);
console.log(
  markdownTable(
    ['client → server', 'calls/s', '× raw', '90% interval', 'CPU µs/call (client + server)', 'added µs/call (90% interval)'],
    rows,
    ['left', 'right', 'right', 'right', 'right', 'right'],
  ),
);
const full = rows[3]!;
console.log(`\nTarget: mesh client → mesh server ≥ 0.90× raw → raw. Measured ${full[2]} (${full[3]}).`);
await Promise.all(meshes.map((m) => m.close()));
for (const c of children) c.kill();
