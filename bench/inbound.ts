/**
 * Inbound adapters against their bare frameworks, in one run: node's http
 * server and mesh.createServer, Express with and without meshExpress,
 * Fastify with and without meshFastify. The mesh side runs the full inbound
 * pipeline (see lib/inbound-server.ts). Target: each adapter ≥ 0.90× its
 * bare framework's throughput.
 *
 * Why several processes per side. Two processes of the very same server
 * differ by up to ±10% in CPU per request, for as long as they live (where
 * V8 and the kernel happened to put their code and heap): as much as the
 * whole difference measured here. So each side runs `--processes` servers,
 * each server's runs are summarized by their median, and a side's figure
 * is the mean over its servers. The interval resamples servers, then runs.
 *
 * Load: `wrk` (installed by CI) pinned to CPU 0 while servers are pinned to
 * CPU 1 (lib/http-load.ts); without wrk, undici in this process. Rounds
 * visit every server of a framework in a shuffled order. Runs that other
 * processes disturbed (over 3% of the machine) are left out.
 *
 * Each server is warmed up alone for `--warmup-ms` (5 s) first: V8 grows
 * a server's young generation for seconds under load, each new page a
 * page fault, and a server that allocates more grows it later (the
 * faults column shows whether the rounds measured steady state).
 *
 * A/B against another checkout: `--base <dir>` adds a third side, the mesh
 * servers of the checkout in <dir> (its own bench/lib/inbound-server.ts and
 * src/, with node_modules of its own or a symlink), measured in the same
 * rounds. The spread between runs of the same code (±5% on this VM) is
 * larger than most single changes; within one run the two builds see the
 * same machine, so "this checkout against the base" can show a change the
 * × bare column hides.
 *
 *   npm run bench:inbound [-- --rounds 8 --ms 1000 --processes 3 --concurrency 32 --warmup-ms 5000 --load wrk|undici --base ../other-checkout]
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cpuPinning, type LoadRun, loadRun, pickLoadTool } from './lib/http-load.js';
import { foreignShare, snapshot } from './lib/machine.js';
import { applyBenchNodeFlags, benchNodeFlags, describeNodeFlags } from './lib/node-flags.js';
import { median } from './lib/report.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '8' },
    ms: { type: 'string', default: '1000' },
    processes: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '32' },
    'warmup-ms': { type: 'string', default: '5000' },
    load: { type: 'string' },
    frameworks: { type: 'string', default: 'node,express,fastify' },
    base: { type: 'string' },
  },
});
const ROUNDS = Number(values.rounds);
const RUN_MS = Number(values.ms);
const PROCESSES = Math.max(1, Number(values.processes));
const CONCURRENCY = Number(values.concurrency);
const WARMUP_MS = Number(values['warmup-ms']);
const TOOL = pickLoadTool(values.load);
const PIN = cpuPinning();
const FRAMEWORKS = values.frameworks!.split(',');
const SERVER = fileURLToPath(new URL('./lib/inbound-server.ts', import.meta.url));
/** The other checkout's root, for --base. */
const BASE = values.base === undefined ? undefined : resolve(values.base);
const PATH = '/users/42';
/** A run is disturbed when other processes used more than this share of the machine's CPU. */
const DISTURBED = 0.03;

// With undici as the load tool, the client runs here.
applyBenchNodeFlags();
const children: ChildProcess[] = [];
process.on('exit', () => {
  for (const c of children) c.kill();
});
// With undici the load comes from this process: it takes CPU 0.
if (TOOL === 'undici' && PIN.load.length > 0) execFileSync('taskset', ['-pc', '0', String(process.pid)], { stdio: 'ignore' });

type Side = 'bare' | 'mesh' | 'base';

interface Server {
  readonly variant: Side;
  readonly pid: number;
  readonly port: number;
  readonly runs: LoadRun[];
}

async function start(framework: string, variant: Side): Promise<Server> {
  // The base side is the other checkout's mesh server, run from its own directory so tsx resolves its src/.
  const script = variant === 'base' ? resolve(BASE!, 'bench/lib/inbound-server.ts') : SERVER;
  const argv = [...PIN.server, process.execPath, '--import', 'tsx', ...benchNodeFlags(), script, framework, variant === 'base' ? 'mesh' : variant];
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'], ...(variant === 'base' ? { cwd: BASE } : {}) });
  children.push(child);
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  const { port } = JSON.parse(line.toString()) as { port: number };
  return { variant, pid: child.pid!, port, runs: [] };
}

/** CPU ticks of this process's reaped children (cutime + cstime): where an exited wrk's CPU goes. */
function reapedTicks(): number {
  try {
    const raw = readFileSync(`/proc/${process.pid}/stat`, 'utf8');
    const rest = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
    return Number(rest[13]) + Number(rest[14]);
  } catch {
    return 0;
  }
}

async function measure(s: Server, ms: number): Promise<{ run: LoadRun; foreign: number | undefined }> {
  const before = snapshot();
  const reaped = reapedTicks();
  const run = await loadRun(TOOL, { port: s.port, pid: s.pid, path: PATH }, ms, CONCURRENCY, PIN.load);
  const after = snapshot();
  const share = foreignShare(before, after);
  if (share === undefined || before === undefined || after === undefined) return { run, foreign: undefined };
  // wrk has exited by now: its ticks left the process tree `snapshot` counts as ours, for our cutime.
  return { run, foreign: Math.max(0, share - (reapedTicks() - reaped) / (after.total - before.total)) };
}

function shuffled<T>(list: readonly T[], seed: number): T[] {
  const out = [...list];
  let a = seed;
  for (let i = out.length - 1; i > 0; i--) {
    a = (a * 1103515245 + 12345) & 0x7fffffff;
    const j = a % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** A side's figure: the mean over its servers of each server's median run. */
function sideValue(servers: readonly Server[], pick: (r: LoadRun) => number): number {
  const perServer = servers.map((s) => median(s.runs.map(pick)));
  return perServer.reduce((a, b) => a + b, 0) / perServer.length;
}

/** 90% interval of mesh/bare, resampling servers, then each server's runs. */
function ratioInterval(bare: readonly Server[], mesh: readonly Server[], pick: (r: LoadRun) => number): [number, number] {
  let a = 0x5eed;
  const next = () => {
    a = (a * 1103515245 + 12345) & 0x7fffffff;
    return a / 0x80000000;
  };
  const resample = (servers: readonly Server[]): Server[] =>
    servers.map(() => {
      const s = servers[Math.floor(next() * servers.length)]!;
      return { ...s, runs: s.runs.map(() => s.runs[Math.floor(next() * s.runs.length)]!) };
    });
  const ratios: number[] = [];
  for (let i = 0; i < 2000; i++) ratios.push(sideValue(resample(mesh), pick) / sideValue(resample(bare), pick));
  ratios.sort((x, y) => x - y);
  return [ratios[100]!, ratios[1899]!];
}

const rows: string[] = [];
const abRows: string[] = [];
let worstForeign = 0;
let dropped = 0;
for (const framework of FRAMEWORKS) {
  const servers: Server[] = [];
  for (let p = 0; p < PROCESSES; p++) {
    servers.push(await start(framework, 'bare'), await start(framework, 'mesh'));
    if (BASE !== undefined) servers.push(await start(framework, 'base'));
  }
  process.stderr.write(`${framework}: warming up ${servers.length} servers\n`);
  for (const s of servers) await loadRun(TOOL, { port: s.port, pid: s.pid, path: PATH }, WARMUP_MS, CONCURRENCY, PIN.load);
  for (let r = 0; r < ROUNDS; r++) {
    for (const s of shuffled(servers, r + 1)) {
      const { run, foreign } = await measure(s, RUN_MS);
      worstForeign = Math.max(worstForeign, foreign ?? 0);
      // Keep a disturbed run only when it is the server's first: a server needs one run to count.
      if (foreign !== undefined && foreign > DISTURBED && s.runs.length > 0) dropped++;
      else s.runs.push(run);
    }
  }
  const bare = servers.filter((s) => s.variant === 'bare');
  const mesh = servers.filter((s) => s.variant === 'mesh');
  const rate = (x: LoadRun) => x.perSecond;
  const cpu = (x: LoadRun) => x.cpuUsPerRequest;
  const ratio = sideValue(mesh, rate) / sideValue(bare, rate);
  const [lo, hi] = ratioInterval(bare, mesh, rate);
  // A side with fewer runs than this gives no interval worth a verdict (CI's short run).
  const enough = Math.min(...[bare, mesh].map((side) => side.reduce((n, x) => n + x.runs.length, 0))) >= 3;
  const met = !enough ? '–' : lo >= 0.9 ? 'yes' : hi < 0.9 ? '**no**' : 'within noise';
  const cpuBare = sideValue(bare, cpu);
  const cpuMesh = sideValue(mesh, cpu);
  const cpuCell = Number.isNaN(cpuBare) ? '–' : `${cpuBare.toFixed(1)} → ${cpuMesh.toFixed(1)} (+${(cpuMesh - cpuBare).toFixed(1)})`;
  const kernel = (x: LoadRun) => x.systemUsPerRequest;
  const kernelCell = Number.isNaN(cpuBare) ? '–' : `${sideValue(bare, kernel).toFixed(1)} → ${sideValue(mesh, kernel).toFixed(1)}`;
  const faults = (x: LoadRun) => x.faultsPerK;
  const faultsCell = Number.isNaN(sideValue(bare, faults)) ? '–' : `${sideValue(bare, faults).toFixed(1)} → ${sideValue(mesh, faults).toFixed(1)}`;
  const base = servers.filter((s) => s.variant === 'base');
  if (base.length > 0) {
    const [abLo, abHi] = ratioInterval(base, mesh, rate);
    const cpuBase = sideValue(base, cpu);
    abRows.push(
      `| ${framework} | ${(sideValue(base, rate) / sideValue(bare, rate)).toFixed(2)}× | ${ratio.toFixed(2)}× | ${(sideValue(mesh, rate) / sideValue(base, rate)).toFixed(3)}× | ${enough ? `${abLo.toFixed(3)}× … ${abHi.toFixed(3)}×` : '–'} | ${Number.isNaN(cpuBase) ? '–' : `${(cpuMesh - cpuBase).toFixed(1)}`} |`,
    );
  }
  rows.push(
    `| ${framework} | ${Math.round(sideValue(bare, rate)).toLocaleString('en-US')} | ${Math.round(sideValue(mesh, rate)).toLocaleString('en-US')} | ${ratio.toFixed(2)}× | ${enough ? `${lo.toFixed(2)}× … ${hi.toFixed(2)}×` : '–'} | ${cpuCell} | ${kernelCell} | ${faultsCell} | ${met} |`,
  );
  for (const s of servers) children.splice(children.indexOf(children.find((c) => c.pid === s.pid)!), 1)[0]!.kill();
}

console.log(
  `Inbound pipeline against the bare framework: ${PROCESSES} server processes per side, ${ROUNDS} rounds of ${RUN_MS} ms each, ` +
    `concurrency ${CONCURRENCY}, GET /users/:id (~60-byte JSON); load from ${TOOL}${PIN.server.length > 0 ? ', servers on CPU 1 and load on CPU 0' : ''}; ${describeNodeFlags()}.\n`,
);
console.log('| framework | bare req/s | with the mesh req/s | × bare | 90% interval | server CPU µs/req: bare → mesh | of it kernel | server page faults per 1k req: bare → mesh | ≥ 0.90× |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
for (const row of rows) console.log(row);
if (abRows.length > 0) {
  console.log(`\nThis checkout's mesh servers against the base checkout's (${BASE}), same rounds:\n`);
  console.log('| framework | base × bare | this × bare | this ÷ base req/s | 90% interval | server CPU µs/req, this − base |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const row of abRows) console.log(row);
}
console.log(`\nOther processes took at most ${(worstForeign * 100).toFixed(1)}% of the machine during a run; ${dropped} disturbed run(s) left out.`);
for (const c of children) c.kill();
