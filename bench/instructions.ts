/**
 * `npm run bench:instructions`: instructions per request under callgrind,
 * the mesh against raw undici and against each bare framework. Wall-clock
 * benches on a shared VM move by ±10–25% with the machine's speed and with
 * V8's per-process pretenuring; instruction counts do not, so they settle
 * whether a change or a client costs more, and by how much. They do not
 * replace req/s: kernel time (syscalls) is not counted, and an instruction
 * is not a fixed time.
 *
 * Each client, server or service runs alone under `valgrind
 * --tool=callgrind`, warmed up (20,000 requests for clients, 15,000 for
 * servers and services), then counted over `--requests` requests. Two
 * figures per row:
 *
 *   request  what the request ran: JIT code, builtins, node's C++, llhttp,
 *            libuv, OpenSSL, malloc; without GC, the optimizing compilers
 *            and timer housekeeping (lib/callgrind.ts), which move with the
 *            pretenuring coin flip and with valgrind's slowdown
 *   total    everything the process executed meanwhile
 *
 * Clients (concurrency 50): raw undici.request(url) over three replicas,
 * mesh.request, the full stack, and both over mTLS; on request, mesh.request
 * with telemetry off (quiet) and fully on (otel as proxyless/otel sets it up,
 * otel-1pct the same sampling 1% of traces, otel-sdk with an application's
 * own SDK provider; all compared with quiet). Servers (load: an
 * undici Pool in this process, 8 connections): node, Express and Fastify,
 * bare and with the mesh's full inbound pipeline (lib/inbound-server.ts).
 * Services, on request (the same load): a service that serves an inbound
 * request through the mesh and makes one outbound call through it from the
 * handler (lib/service-server.ts, over the clients' three replicas), with
 * telemetry off (quiet) and fully on (otel, otel-1pct; compared with quiet),
 * or with one part of it on (metrics, tracing, propagate: the caller's
 * trace passed on with no tracer provider). The same service without the
 * mesh (lib/otel-reference-server.ts): raw, and raw-otel, instrumented as
 * OpenTelemetry's documentation sets up a Node service (compared with raw).
 * Their load sends a `traceparent` on every request, as a traced caller
 * does: sampled, except for otel-1pct, sampled one request in 100.
 * Each counted run takes about a minute.
 *
 * `--functions N` adds, under each table, the N functions that add the
 * most request instructions against the row's baseline (and the N that
 * save the most), JIT code named through V8's perf map
 * (`--perf-basic-prof`, only then). `--keep` keeps the callgrind dumps
 * (and with --functions their perf maps) for callgrind_annotate.
 *
 *   npm run bench:instructions [-- --clients raw,mesh,full,raw-tls,mesh-tls,quiet,otel,otel-1pct,otel-sdk --servers node,express,fastify --services quiet,otel,otel-1pct,metrics,tracing,propagate,raw,raw-otel --requests 3000 --warmup N --functions N --keep]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { callerTraceparents } from './lib/caller-traces.js';
import { control, countOf, functionsOf, hasCallgrind, type InstructionCount } from './lib/callgrind.js';
import { installExitHandlers, killAll, nextMessage, spawnNode, TSX, track } from './lib/children.js';
import { writeBenchCertificates } from './lib/mtls-certs.js';
import { benchNodeFlags, describeNodeFlags } from './lib/node-flags.js';
import { markdownTable, num, ratio } from './lib/table.js';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: 'raw,mesh,full,raw-tls,mesh-tls' },
    servers: { type: 'string', default: 'node,express,fastify' },
    services: { type: 'string', default: '' },
    requests: { type: 'string', default: '3000' },
    warmup: { type: 'string' },
    functions: { type: 'string', default: '0' },
    keep: { type: 'boolean', default: false },
  },
});
const CLIENTS = values.clients!.split(',').filter((c) => c !== '');
const SERVERS = values.servers!.split(',').filter((s) => s !== '');
const SERVICES = values.services!.split(',').filter((s) => s !== '');
const REQUESTS = Number(values.requests);
// Long enough for V8 to optimize the hot code: a shorter warm-up counts interpreter and baseline code.
const CLIENT_WARMUP = Number(values.warmup ?? 20_000);
const SERVER_WARMUP = Number(values.warmup ?? 15_000);
/** With N > 0, each compared row also lists the N functions that add the most instructions, and the N that save the most. */
const FUNCTIONS = Number(values.functions);
const CLIENT = fileURLToPath(new URL('./lib/instr-client.ts', import.meta.url));
const SERVER = fileURLToPath(new URL('./lib/inbound-server.ts', import.meta.url));
const SERVICE = fileURLToPath(new URL('./lib/service-server.ts', import.meta.url));
const REFERENCE_SERVICE = fileURLToPath(new URL('./lib/otel-reference-server.ts', import.meta.url));

if (!hasCallgrind()) {
  console.error('bench:instructions needs valgrind (apt-get install valgrind)');
  process.exit(1);
}
installExitHandlers(killAll);
const dir = mkdtempSync(join(tmpdir(), 'proxyless-bench-instructions-'));

/** A Node script under callgrind, counting nothing until told to. */
function underCallgrind(tag: string, script: string, args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const argv = [
    '--tool=callgrind',
    // JIT code is written and rewritten at run time: valgrind must notice.
    '--smc-check=all-non-file',
    '--instr-atstart=no',
    `--callgrind-out-file=${join(dir, `${tag}.%p`)}`,
    process.execPath,
    '--import',
    TSX,
    // V8's perf map names the JIT code callgrind only knows by address.
    ...(FUNCTIONS > 0 ? ['--perf-basic-prof'] : []),
    ...benchNodeFlags(),
    script,
    ...args,
  ];
  const child = spawn('valgrind', argv, { stdio: ['pipe', 'pipe', 'pipe'], env });
  track(child);
  let log = '';
  child.stderr!.on('data', (d: Buffer) => {
    log = (log + d.toString()).slice(-4000);
  });
  child.on('exit', (code) => {
    if (code !== 0 && code !== null) process.stderr.write(`${tag} exited with ${code}:\n${log}\n`);
  });
  return child;
}

/** The dump callgrind_control -d wrote for `tag` (the first one: `<tag>.<pid>.1`). */
function dumpOf(tag: string): string {
  const file = readdirSync(dir).find((f) => f.startsWith(`${tag}.`) && f.endsWith('.1'));
  if (file === undefined) throw new Error(`no callgrind dump for ${tag}`);
  return join(dir, file);
}

interface Counted extends InstructionCount {
  /** Per function, when --functions asked for it. */
  readonly functions?: Map<string, number> | undefined;
}

function counted(tag: string, pid: number): Counted {
  const file = dumpOf(tag);
  const count = countOf(file, REQUESTS);
  if (FUNCTIONS <= 0) return count;
  const perfMap = `/tmp/perf-${pid}.map`;
  const functions = functionsOf(file, REQUESTS, perfMap);
  if (values.keep === true) renameSync(perfMap, `${file}.perf.map`);
  else rmSync(perfMap, { force: true });
  return { ...count, functions };
}

/** The functions whose instructions per request differ most between `base` and `c`. */
function functionDiff(label: string, c: Counted, base: Counted): string {
  const a = base.functions;
  const b = c.functions;
  if (a === undefined || b === undefined) return '';
  const diffs = [...new Set([...a.keys(), ...b.keys()])].map((name): [string, number] => [name, (b.get(name) ?? 0) - (a.get(name) ?? 0)]);
  diffs.sort((x, y) => y[1] - x[1]);
  const pick = [...diffs.slice(0, FUNCTIONS), ...diffs.slice(-FUNCTIONS).filter(([, d]) => d < 0)].filter(([, d]) => Math.abs(d) >= 1);
  const rows = pick.map(([name, d]) => [`${d >= 0 ? '+' : '−'}${num(Math.abs(d))}`, name.length > 110 ? `${name.slice(0, 107)}…` : name]);
  return `\n### ${label}: where the instructions differ (request instructions/req, by function)\n\n${markdownTable(['added', 'function'], rows, ['right', 'left'])}\n`;
}

async function countClient(kind: string, ports: string, tlsPort: string, certDir: string): Promise<Counted> {
  const child = underCallgrind(kind, CLIENT, [kind, ports, tlsPort, certDir, String(CLIENT_WARMUP), String(REQUESTS)]);
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const step = async (expect: string, ...command: string[]) => {
    const { value, done } = await lines.next();
    if (done === true || value !== expect) throw new Error(`${kind}: expected "${expect}", got ${done === true ? 'the end' : `"${value}"`}`);
    control(child.pid!, ...command);
    child.stdin!.write('go\n');
  };
  await step('warm', '-i', 'on');
  await step('zero', '-z');
  await step('dump', '-d');
  await once(child, 'exit');
  return counted(kind, child.pid!);
}

/** The headers of the n-th request a server is sent: none for the framework servers, a caller's `traceparent` for services. */
type HeadersOf = (n: number) => Record<string, string> | undefined;
const NO_HEADERS: HeadersOf = () => undefined;

async function load(port: number, total: number, headersOf: HeadersOf): Promise<void> {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 8 });
  let sent = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (sent < total) {
        const res = await pool.request({ path: '/users/42', method: 'GET', headers: headersOf(sent++) });
        await res.body.dump();
        if (res.statusCode !== 200) throw new Error(`server answered ${res.statusCode}`);
      }
    }),
  );
  await pool.close();
}

/** A server process (it prints `{"port": N}`) under callgrind, loaded from here: warm-up, then the counted requests. */
async function countServerProcess(tag: string, script: string, args: string[], headersOf: HeadersOf): Promise<Counted> {
  // Under valgrind the event loop runs seconds late: the mesh's loop-delay limit would shed the counted requests.
  const child = underCallgrind(tag, script, args, { ...process.env, INBOUND_MAX_LOOP_DELAY: '600s' });
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  const { port } = JSON.parse(line.toString()) as { port: number };
  await load(port, SERVER_WARMUP, headersOf);
  control(child.pid!, '-i', 'on');
  await load(port, 300, headersOf);
  control(child.pid!, '-z');
  await load(port, REQUESTS, headersOf);
  control(child.pid!, '-d');
  child.kill('SIGINT');
  await once(child, 'exit');
  return counted(tag, child.pid!);
}

const countServer = (framework: string, variant: 'bare' | 'mesh'): Promise<Counted> =>
  countServerProcess(`${framework}-${variant}`, SERVER, [framework, variant], NO_HEADERS);

// A traced caller's contexts, one per request in turn: what a mesh client in front of the service sends
// (lib/service-server.ts says why quiet gets them too, lib/caller-traces.ts why they differ).
const SAMPLED = callerTraceparents('01').map((traceparent) => ({ traceparent }));
const UNSAMPLED = callerTraceparents('00').map((traceparent) => ({ traceparent }));
const nth = <T>(list: readonly T[], n: number): T => list[n % list.length]!;

/**
 * A service variant counted as the servers are. otel-1pct's caller samples
 * one request in 100: under a parent-based sampler the caller's flag
 * decides, so a caller sampling every request would make it otel.
 */
const countService = (variant: string, ports: string): Promise<Counted> =>
  countServerProcess(`service-${variant}`, variant.startsWith('raw') ? REFERENCE_SERVICE : SERVICE, [variant, ports], variant === 'otel-1pct' ? (n) => nth(n % 100 === 0 ? SAMPLED : UNSAMPLED, n) : (n) => nth(SAMPLED, n));

/** The three upstream replicas (lib/upstream.ts) the clients and the services call, started on first use. */
let replicaPorts: Promise<string[]> | undefined;
function replicas(): Promise<string[]> {
  replicaPorts ??= (async () => {
    const ports: string[] = [];
    for (let i = 0; i < 3; i++) {
      const replica = spawnNode(fileURLToPath(new URL('./lib/upstream.ts', import.meta.url)), []);
      const first = await nextMessage<{ port: number }>(replica, 30_000);
      if ('gone' in first) throw new Error(`replica did not start: ${first.gone}`);
      ports.push(String(first.message.port));
    }
    return ports;
  })();
  return replicaPorts;
}

const row = (label: string, c: InstructionCount, base?: InstructionCount): string[] => [
  label,
  num(c.request),
  num(c.total),
  base === undefined ? '' : `${c.request - base.request >= 0 ? '+' : '−'}${num(Math.abs(c.request - base.request))}`,
  base === undefined ? '' : ratio(base.request / c.request),
];
const HEADERS = ['', 'request instructions/req', 'total instructions/req', 'added (request)', 'baseline ÷ this (request)'];
const ALIGN = ['left', 'right', 'right', 'right', 'right'] as const;

try {
  console.log(
    `# Instructions per request (callgrind)\n\nNode ${process.version}, ${REQUESTS.toLocaleString('en-US')} counted requests per row after ${CLIENT_WARMUP.toLocaleString('en-US')} (clients) and ${SERVER_WARMUP.toLocaleString('en-US')} (servers${SERVICES.length > 0 ? ', services' : ''}) of warm-up, ${describeNodeFlags()}\n`,
  );
  if (CLIENTS.length > 0) {
    const ports = await replicas();
    const { upstreamArgs, clientDir } = await writeBenchCertificates(dir);
    const tlsUpstream = spawnNode(fileURLToPath(new URL('./lib/tls-upstream.ts', import.meta.url)), upstreamArgs);
    const tlsFirst = await nextMessage<{ port: number }>(tlsUpstream, 30_000);
    if ('gone' in tlsFirst) throw new Error(`tls upstream did not start: ${tlsFirst.gone}`);
    const counts = new Map<string, Counted>();
    for (const kind of CLIENTS) {
      process.stderr.write(`counting client ${kind}…\n`);
      counts.set(kind, await countClient(kind, ports.join(','), String(tlsFirst.message.port), clientDir));
    }
    const rows: string[][] = [];
    let details = '';
    for (const [kind, c] of counts) {
      // Telemetry's cost is otel against quiet: the same client with telemetry off.
      const base = kind.endsWith('-tls') ? 'raw-tls' : kind.startsWith('otel') && counts.has('quiet') ? 'quiet' : 'raw';
      const b = kind === base ? undefined : counts.get(base);
      rows.push(row(kind, c, b));
      if (b !== undefined) details += functionDiff(`${kind} against ${base}`, c, b);
    }
    console.log('## Clients (concurrency 50; raw = undici.request(url); the -tls rows against raw-tls, the otel rows against quiet)\n');
    console.log(markdownTable(HEADERS, rows, [...ALIGN]));
    if (details !== '') console.log(details);
  }
  if (SERVERS.length > 0) {
    const rows: string[][] = [];
    let details = '';
    for (const framework of SERVERS) {
      process.stderr.write(`counting ${framework} servers…\n`);
      const bare = await countServer(framework, 'bare');
      const meshed = await countServer(framework, 'mesh');
      rows.push(row(`${framework} bare`, bare), row(`${framework} with the mesh`, meshed, bare));
      details += functionDiff(`${framework} with the mesh against bare`, meshed, bare);
    }
    console.log('\n## Servers (GET /users/:id; "raw" = the bare framework)\n');
    console.log(markdownTable(HEADERS, rows, [...ALIGN]));
    if (details !== '') console.log(details);
  }
  if (SERVICES.length > 0) {
    const ports = (await replicas()).join(',');
    const counts = new Map<string, Counted>();
    for (const variant of SERVICES) {
      process.stderr.write(`counting service ${variant}…\n`);
      counts.set(variant, await countService(variant, ports));
    }
    const rows: string[][] = [];
    let details = '';
    for (const [variant, c] of counts) {
      // Telemetry's cost is each variant against the same service with telemetry off: quiet, or raw without the mesh.
      const baseName = variant.startsWith('raw') ? 'raw' : 'quiet';
      const b = variant === baseName ? undefined : counts.get(baseName);
      rows.push(row(variant, c, b));
      if (b !== undefined) details += functionDiff(`service ${variant} against ${baseName}`, c, b);
    }
    console.log('\n## Services (an inbound request that makes one outbound call; GET /users/:id with a traceparent, baseline = quiet, or raw for raw-otel)\n');
    console.log(markdownTable(HEADERS, rows, [...ALIGN]));
    if (details !== '') console.log(details);
  }
} finally {
  killAll();
  if (values.keep === true) console.error(`callgrind dumps kept in ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
