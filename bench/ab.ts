/**
 * `npm run bench:ab -- <dir-a> <dir-b> [--row mesh-request] [--rounds 10]`:
 * one row of the load bench from two checkouts, side by side. Each side's
 * load generator is that checkout's own `bench/lib/loadgen.ts` (so it runs
 * that checkout's src/), both drive the same three replicas, and they take
 * turns round after round, as `npm run bench` does: a forced full GC, a
 * short warm-up, then a measured closed loop at concurrency 50.
 *
 * Why: between two runs of `npm run bench` the VM's speed moves by more
 * than most changes. Alternating the two builds in one run puts them on
 * the same machine state, round by round. Point `<dir-a>` at a
 * `git worktree` of the commit before a change (with node_modules linked).
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { installExitHandlers, killAll, nextMessage, spawnNode } from './lib/children.js';
import { describeNodeFlags } from './lib/node-flags.js';
import { bootstrap, median } from './lib/report.js';
import { markdownTable, num, signed } from './lib/table.js';
import type { ClientSpec, LoadReply } from './lib/types.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    row: { type: 'string', default: 'mesh-request' },
    rounds: { type: 'string', default: '10' },
    ms: { type: 'string', default: '750' },
  },
});
if (positionals.length !== 2) {
  process.stderr.write('usage: npm run bench:ab -- <dir-a> <dir-b> [--row mesh-request|mesh-full|mesh-quiet|mesh-otel|undici] [--rounds 10] [--ms 750]\n');
  process.exit(2);
}
const DIRS = positionals.map((d) => resolve(d)) as [string, string];
const ROW = values.row as ClientSpec['kind'];
const ROUNDS = Number(values.rounds);
const RUN_MS = Number(values.ms);

interface Generator {
  run(run: object, timeoutMs: number): Promise<Record<string, LoadReply>>;
  close(): Promise<void>;
}

installExitHandlers(killAll);
const ports: number[] = [];
for (let i = 0; i < 3; i++) {
  const child = spawnNode(fileURLToPath(new URL('./lib/upstream.ts', import.meta.url)), []);
  const first = await nextMessage<{ port: number }>(child, 30_000);
  if ('gone' in first) throw new Error(`replica did not start: ${first.gone}`);
  ports.push(first.message.port);
}
const endpoints = ports.map((p) => `127.0.0.1:${p}`);
const spec = (
  ROW === 'undici' ? { kind: 'undici', urls: endpoints.map((e) => `http://${e}/bench`) } : { kind: ROW, service: 'echo', endpoints, path: '/bench' }
) as ClientSpec;

// Each checkout's own generator module, so each side runs its own loadgen and src/.
const generators: Generator[] = [];
for (const dir of DIRS) {
  const { LoadGenerator } = (await import(resolve(dir, 'bench/lib/generators.ts'))) as {
    LoadGenerator: { start(clients: Record<string, ClientSpec>, cpus: undefined): Promise<Generator & { unavailable: Record<string, string> }> };
  };
  const generator = await LoadGenerator.start({ row: spec }, undefined);
  if (generator.unavailable.row !== undefined) throw new Error(`${dir}: ${generator.unavailable.row}`);
  generators.push(generator);
}

const cpu: [number[], number[]] = [[], []];
const rps: [number[], number[]] = [[], []];
for (let round = 0; round < ROUNDS; round++) {
  for (const side of round % 2 === 0 ? ([0, 1] as const) : ([1, 0] as const)) {
    const warmupMs = round < 2 ? 2500 : 150;
    const replies = await generators[side]!.run(
      { kind: 'closed', row: 'row', concurrency: 50, warmupMs, durationMs: RUN_MS, maxRequests: 1e9 },
      warmupMs + RUN_MS + 45_000,
    );
    const reply = replies.row!;
    if (!reply.ok) throw new Error(`${DIRS[side]}: ${reply.reason}`);
    cpu[side].push(reply.cpuPerRequestUs);
    rps[side].push(reply.rps);
  }
  process.stderr.write(`round ${round + 1}/${ROUNDS}: a ${cpu[0].at(-1)!.toFixed(1)} µs/req, b ${cpu[1].at(-1)!.toFixed(1)} µs/req\n`);
}
await Promise.all(generators.map((g) => g.close()));
killAll();

const [lo, hi] = bootstrap([cpu[1], cpu[0]], ([b, a]) => median(b!) - median(a!));
const [rlo, rhi] = bootstrap([rps[1], rps[0]], ([b, a]) => median(b!) / median(a!));
console.log(`Row ${ROW}, ${ROUNDS} alternating rounds of ${RUN_MS} ms, concurrency 50, three replicas; ${describeNodeFlags()}\n`);
console.log(
  markdownTable(
    ['side', 'checkout', 'req/s (median)', 'client CPU µs/req (median)', 'per round'],
    [0, 1].map((s) => [s === 0 ? 'a' : 'b', DIRS[s]!, num(median(rps[s as 0 | 1])), num(median(cpu[s as 0 | 1]), 1), cpu[s as 0 | 1].map((x) => x.toFixed(1)).join(' ')]),
    ['left', 'left', 'right', 'right', 'left'],
  ),
);
console.log(
  `\nb − a: ${signed(median(cpu[1]) - median(cpu[0]))} µs/req (90% interval ${signed(lo)} … ${signed(hi)}); ` +
    `b ÷ a req/s: ${(median(rps[1]) / median(rps[0])).toFixed(3)} (${rlo.toFixed(3)} … ${rhi.toFixed(3)})`,
);
process.exit(0);
