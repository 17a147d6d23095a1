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
 * `--frameworks service` (opt-in) measures telemetry's cost in a service
 * instead: lib/service-server.ts, whose handler makes one outbound
 * mesh.request per inbound request, with telemetry off (quiet, in the bare
 * side's place) against fully on (otel, in the mesh side's). Its three
 * upstream replicas (lib/upstream.ts) are started once, shared by every
 * service process and pinned with the load, so the service has its CPU to
 * itself. Every request carries a caller's sampled `traceparent`, quiet's
 * too (lib/service-server.ts says why). With `--base`, the base side is
 * the base checkout's otel service.
 *
 * `--frameworks otel-reference` (opt-in) measures the same service without
 * the mesh (lib/otel-reference-server.ts: node:http and undici), bare
 * against instrumented as OpenTelemetry's documentation sets up a Node
 * service (SDK, http and undici instrumentations, spans dropped): what
 * telemetry costs a service that has no mesh, in the same run.
 *
 *   npm run bench:inbound [-- --rounds 8 --ms 1000 --processes 3 --concurrency 32 --warmup-ms 5000 --load wrk|undici --frameworks node,express,fastify,service --base ../other-checkout]
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { callerTraceparents, wrkTraceScript } from './lib/caller-traces.js';
import { nextMessage, spawnNode } from './lib/children.js';
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
const SERVICE = fileURLToPath(new URL('./lib/service-server.ts', import.meta.url));
const REFERENCE = fileURLToPath(new URL('./lib/otel-reference-server.ts', import.meta.url));
/** The services: traced load, and rows of their own (telemetry off against fully on). */
const SERVICES = new Set(['service', 'otel-reference']);
/** A caller's sampled trace contexts, one per request in turn, sent to the service's sides (lib/service-server.ts says why quiet gets them too; lib/caller-traces.ts why they differ). */
const TRACEPARENTS = callerTraceparents();
let nextTrace = 0;
/** The same sequence for wrk, written on first use. */
let wrkScript: string | undefined;
/** The other checkout's root, for --base. */
const BASE = values.base === undefined ? undefined : resolve(values.base);
const PATH = '/users/42';
/** A run is disturbed when other processes used more than this share of the machine's CPU. */
const DISTURBED = 0.03;
if (BASE !== undefined && FRAMEWORKS.includes('service') && !existsSync(resolve(BASE, 'bench/lib/service-server.ts'))) {
  console.error(`--base ${BASE} has no bench/lib/service-server.ts: it cannot be the base of the service`);
  process.exit(1);
}

// With undici as the load tool, the client runs here.
applyBenchNodeFlags();
const children: ChildProcess[] = [];
process.on('exit', () => {
  for (const c of children) c.kill();
});
// With undici the load comes from this process: it takes CPU 0.
if (TOOL === 'undici' && PIN.load.length > 0) execFileSync('taskset', ['-pc', '0', String(process.pid)], { stdio: 'ignore' });

/** For the service, bare is telemetry off (quiet) and mesh telemetry fully on (otel). */
type Side = 'bare' | 'mesh' | 'base';

interface Server {
  readonly variant: Side;
  readonly pid: number;
  readonly port: number;
  /** The service's servers: the load sends them a caller's traceparent. */
  readonly traced: boolean;
  readonly runs: LoadRun[];
}

/** The service's upstream replicas' ports (`a,b,c`): started on first use, on the load's CPU. */
let upstreamPorts: Promise<string> | undefined;
function upstreams(): Promise<string> {
  upstreamPorts ??= (async () => {
    const ports: number[] = [];
    for (let i = 0; i < 3; i++) {
      const child = spawnNode(fileURLToPath(new URL('./lib/upstream.ts', import.meta.url)), [], PIN.load.length > 0 ? { cpus: '0' } : {});
      children.push(child);
      const first = await nextMessage<{ port: number }>(child, 30_000);
      if ('gone' in first) throw new Error(`upstream replica did not start: ${first.gone}`);
      ports.push(first.message.port);
    }
    return ports.join(',');
  })();
  return upstreamPorts;
}

async function start(framework: string, variant: Side): Promise<Server> {
  const service = SERVICES.has(framework);
  const reference = framework === 'otel-reference';
  // The base side is the other checkout's mesh server (otel service), run from its own directory so tsx resolves its src/.
  const script =
    variant === 'base'
      ? resolve(BASE!, service ? 'bench/lib/service-server.ts' : 'bench/lib/inbound-server.ts')
      : reference
        ? REFERENCE
        : service
          ? SERVICE
          : SERVER;
  const off = reference ? 'raw' : 'quiet';
  const on = reference ? 'raw-otel' : 'otel';
  const args = service ? [variant === 'bare' ? off : on, await upstreams()] : [framework, variant === 'base' ? 'mesh' : variant];
  const argv = [...PIN.server, process.execPath, '--import', 'tsx', ...benchNodeFlags(), script, ...args];
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'], ...(variant === 'base' ? { cwd: BASE } : {}) });
  children.push(child);
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  const { port } = JSON.parse(line.toString()) as { port: number };
  return { variant, pid: child.pid!, port, traced: service, runs: [] };
}

const REQUEST_CREATED = 'undici:request:create';
function addTraceparent(message: unknown): void {
  const traceparent = TRACEPARENTS[nextTrace++ % TRACEPARENTS.length]!;
  (message as { request: { addHeader(name: string, value: string): unknown } }).request.addHeader('traceparent', traceparent);
}

/**
 * One closed-loop run against `s`. lib/http-load.ts sends no headers of its
 * own, so a traced server's traceparent is added here: for wrk, by the
 * command prefix loadRun puts in front of `wrk` (where the pinning goes),
 * `sh` exec'ing wrk with the script that sends them (`-s`), pinned as
 * before; for undici, which loads
 * from this process, on undici's request-created diagnostics channel, as
 * OpenTelemetry's undici instrumentation adds its own headers.
 */
async function load(s: Server, ms: number): Promise<LoadRun> {
  const target = { port: s.port, pid: s.pid, path: PATH };
  if (!s.traced) return loadRun(TOOL, target, ms, CONCURRENCY, PIN.load);
  if (TOOL === 'wrk') {
    wrkScript ??= wrkTraceScript(TRACEPARENTS);
    const withHeader = [...PIN.load, 'sh', '-c', 'w=$1; shift; exec "$w" -s "$0" "$@"', wrkScript];
    return loadRun(TOOL, target, ms, CONCURRENCY, withHeader);
  }
  subscribe(REQUEST_CREATED, addTraceparent);
  try {
    return await loadRun(TOOL, target, ms, CONCURRENCY, PIN.load);
  } finally {
    unsubscribe(REQUEST_CREATED, addTraceparent);
  }
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
  const run = await load(s, ms);
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
// The service's rows: quiet and otel in the bare and mesh columns, and no target.
const serviceRows: string[] = [];
const serviceAbRows: string[] = [];
let worstForeign = 0;
let dropped = 0;
for (const framework of FRAMEWORKS) {
  const servers: Server[] = [];
  for (let p = 0; p < PROCESSES; p++) {
    servers.push(await start(framework, 'bare'), await start(framework, 'mesh'));
    // The reference has no mesh, so no other checkout's mesh to compare.
    if (BASE !== undefined && framework !== 'otel-reference') servers.push(await start(framework, 'base'));
  }
  process.stderr.write(`${framework}: warming up ${servers.length} servers\n`);
  for (const s of servers) await load(s, WARMUP_MS);
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
    (SERVICES.has(framework) ? serviceAbRows : abRows).push(
      `| ${framework} | ${(sideValue(base, rate) / sideValue(bare, rate)).toFixed(2)}× | ${ratio.toFixed(2)}× | ${(sideValue(mesh, rate) / sideValue(base, rate)).toFixed(3)}× | ${enough ? `${abLo.toFixed(3)}× … ${abHi.toFixed(3)}×` : '–'} | ${Number.isNaN(cpuBase) ? '–' : `${(cpuMesh - cpuBase).toFixed(1)}`} |`,
    );
  }
  const cells = `| ${framework} | ${Math.round(sideValue(bare, rate)).toLocaleString('en-US')} | ${Math.round(sideValue(mesh, rate)).toLocaleString('en-US')} | ${ratio.toFixed(2)}× | ${enough ? `${lo.toFixed(2)}× … ${hi.toFixed(2)}×` : '–'} | ${cpuCell} | ${kernelCell} | ${faultsCell} |`;
  if (SERVICES.has(framework)) serviceRows.push(cells);
  else rows.push(`${cells} ${met} |`);
  for (const s of servers) children.splice(children.indexOf(children.find((c) => c.pid === s.pid)!), 1)[0]!.kill();
}

console.log(
  `${rows.length > 0 ? 'Inbound pipeline against the bare framework' : 'A service, telemetry off against fully on'}: ${PROCESSES} server processes per side, ${ROUNDS} rounds of ${RUN_MS} ms each, ` +
    `concurrency ${CONCURRENCY}, GET /users/:id (~60-byte JSON); load from ${TOOL}${PIN.server.length > 0 ? ', servers on CPU 1 and load on CPU 0' : ''}; ${describeNodeFlags()}.\n`,
);
/** Prints a markdown table (`align`: one `---` or `---:` per column) under its intro, when it has rows. */
function printTable(intro: string, header: string, align: string, tableRows: readonly string[]): void {
  if (tableRows.length === 0) return;
  if (intro !== '') console.log(intro);
  console.log(header);
  console.log(align);
  for (const row of tableRows) console.log(row);
}

printTable(
  '',
  '| framework | bare req/s | with the mesh req/s | × bare | 90% interval | server CPU µs/req: bare → mesh | of it kernel | server page faults per 1k req: bare → mesh | ≥ 0.90× |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  rows,
);
printTable(
  `\nThis checkout's mesh servers against the base checkout's (${BASE}), same rounds:\n`,
  '| framework | base × bare | this × bare | this ÷ base req/s | 90% interval | server CPU µs/req, this − base |',
  '| --- | ---: | ---: | ---: | ---: | ---: |',
  abRows,
);
printTable(
  `${rows.length > 0 ? '\n' : ''}A service (lib/service-server.ts): each inbound request through mesh.createServer makes one outbound mesh.request to three upstream replicas (on the load's CPU), ` +
    `with telemetry off (quiet) and fully on (otel: Istio metrics, every span recorded by proxyless/otel's provider and dropped); otel-reference is the same service without the mesh (lib/otel-reference-server.ts), ` +
    `bare (raw) and with OpenTelemetry's standard Node setup (raw-otel); every request carries a caller's sampled traceparent:\n`,
  '| service | off req/s (quiet, raw) | fully on req/s (otel, raw-otel) | on ÷ off | 90% interval | server CPU µs/req: off → on | of it kernel | server page faults per 1k req: off → on |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  serviceRows,
);
printTable(
  `\nThis checkout's otel service against the base checkout's (${BASE}), same rounds:\n`,
  '| framework | base otel ÷ quiet | this otel ÷ quiet | this ÷ base req/s | 90% interval | server CPU µs/req, this − base |',
  '| --- | ---: | ---: | ---: | ---: | ---: |',
  serviceAbRows,
);
console.log(`\nOther processes took at most ${(worstForeign * 100).toFixed(1)}% of the machine during a run; ${dropped} disturbed run(s) left out.`);
for (const c of children) c.kill();
