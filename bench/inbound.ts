/**
 * Inbound adapters against their bare frameworks, in one run: node's http
 * server and mesh.createServer, Express with and without meshExpress,
 * Fastify with and without meshFastify. The mesh side runs the full inbound
 * pipeline (see lib/inbound-server.ts). Target: each adapter ≥ 0.90× its
 * bare framework's throughput.
 *
 * Each server is its own process; the load comes from this process (undici,
 * closed loop, keep-alive). Rounds alternate bare and meshed runs of one
 * framework, in both orders, and the ratio is the median of per-round
 * ratios, with a 90% bootstrap interval over rounds.
 *
 *   npm run bench:inbound [-- --rounds 12 --ms 1000 --concurrency 32]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '12' },
    ms: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '32' },
  },
});
const ROUNDS = Number(values.rounds);
const RUN_MS = Number(values.ms);
const CONCURRENCY = Number(values.concurrency);
const SERVER = fileURLToPath(new URL('./lib/inbound-server.ts', import.meta.url));
const FRAMEWORKS = ['node', 'express', 'fastify'] as const;

const children: ChildProcess[] = [];
process.on('exit', () => {
  for (const c of children) c.kill();
});

async function start(framework: string, variant: string): Promise<Pool> {
  const child = spawn(process.execPath, ['--import', 'tsx', SERVER, framework, variant], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  const { port } = JSON.parse(line.toString()) as { port: number };
  return new Pool(`http://127.0.0.1:${port}`, { connections: CONCURRENCY });
}

/** Closed loop for `ms`: requests completed per second, failing on any non-200. */
async function run(pool: Pool, ms: number): Promise<number> {
  const end = performance.now() + ms;
  let done = 0;
  let n = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < end) {
        const res = await pool.request({ path: `/users/${n++ % 1000}`, method: 'GET' });
        await res.body.arrayBuffer();
        if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
        done++;
      }
    }),
  );
  return (done * 1000) / ms;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** 90% bootstrap interval of the median, resampling whole rounds. */
function interval(xs: number[]): [number, number] {
  const meds: number[] = [];
  let seed = 12345;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  for (let i = 0; i < 2000; i++) meds.push(median(xs.map(() => xs[Math.floor(rand() * xs.length)]!)));
  meds.sort((a, b) => a - b);
  return [meds[Math.floor(meds.length * 0.05)]!, meds[Math.floor(meds.length * 0.95)]!];
}

const rows: string[] = [];
for (const framework of FRAMEWORKS) {
  const bare = await start(framework, 'bare');
  const meshed = await start(framework, 'mesh');
  process.stderr.write(`${framework}: warming up\n`);
  await run(bare, 1500);
  await run(meshed, 1500);
  const b: number[] = [];
  const m: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    // Alternate the order, so neither side always runs on a freshly cooled CPU.
    if (r % 2 === 0) {
      b.push(await run(bare, RUN_MS));
      m.push(await run(meshed, RUN_MS));
    } else {
      m.push(await run(meshed, RUN_MS));
      b.push(await run(bare, RUN_MS));
    }
  }
  const ratios = b.map((x, i) => m[i]! / x);
  const [lo, hi] = interval(ratios);
  const r = median(ratios);
  const met = lo >= 0.9 ? 'yes' : hi < 0.9 ? '**no**' : 'within noise';
  rows.push(`| ${framework} | ${Math.round(median(b)).toLocaleString('en-US')} | ${Math.round(median(m)).toLocaleString('en-US')} | ${r.toFixed(2)}× | ${lo.toFixed(2)}× … ${hi.toFixed(2)}× | ${met} |`);
  await bare.close();
  await meshed.close();
}

console.log(`Inbound pipeline against the bare framework (${ROUNDS} alternating rounds of ${RUN_MS} ms, concurrency ${CONCURRENCY}, GET /users/:id, ~60-byte JSON):\n`);
console.log('| framework | bare req/s | with the mesh req/s | × bare | 90% interval | ≥ 0.90× |');
console.log('| --- | ---: | ---: | ---: | ---: | --- |');
for (const row of rows) console.log(row);
for (const c of children) c.kill();
