/**
 * `npm run bench`: the load bench. One run prints, as markdown:
 *  1. closed-loop throughput at concurrency 50: req/s, p50, p99, client CPU
 *     per request, and both against raw undici.request;
 *  2. open-loop latency at 1,000 req/s: p50, p99, p99.9, added p50;
 *  3. the mesh's performance targets, met or not;
 * for raw undici.request, global fetch, mesh.request, mesh.fetch, and one and
 * two sidecar hops through haproxy and nginx. It also writes
 * bench/results/last.json.
 *
 * Processes: three upstream replicas (lib/upstream.ts), the proxies
 * (lib/proxies.ts), and one load generator per row (lib/loadgen.ts), which
 * warms up once and then measures whenever asked. This process only
 * orchestrates: rows take turns, A B C … A B C …, so drift on the machine hits
 * every row alike. Flags: `npm run bench -- --help`.
 */
import { type ChildProcess, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasTaskset, installExitHandlers, killAll, spawnNode } from './lib/children.js';
import { parseOptions, ROW_LABELS, type RowId } from './lib/options.js';
import {
  findBinary,
  oneHop,
  type ProxyKind,
  type RunningTopology,
  startTopology,
  twoHops,
  versionOf,
} from './lib/proxies.js';
import {
  closedTable,
  fixedTable,
  type RowRecord,
  summarizeClosed,
  summarizeFixed,
  targets,
  targetsTable,
} from './lib/report.js';
import { num } from './lib/table.js';
import type {
  ClientSpec,
  LoadgenMessage,
  LoadgenRequest,
  LoadMode,
  LoadReply,
  LoadResult,
  UpstreamMessage,
  UpstreamRequest,
} from './lib/types.js';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH_DIR);
const LOADGEN = join(BENCH_DIR, 'lib', 'loadgen.ts');
const UPSTREAM = join(BENCH_DIR, 'lib', 'upstream.ts');
const REPLICAS = 3;
const PATH = '/bench';
const MAX_REQUESTS_PER_RUN = 20_000_000;

const options = parseOptions(process.argv.slice(2));

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function waitExit(child: ChildProcess, ms: number): Promise<void> {
  if (exited(child)) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve();
    }, ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** The child's next IPC message, or why none came (it exited, or `ms` passed). */
function nextMessage<T>(child: ChildProcess, ms: number): Promise<{ message: T } | { gone: string }> {
  return new Promise((resolve) => {
    const done = (value: { message: T } | { gone: string }) => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(value);
    };
    const onMessage = (message: T) => done({ message });
    const onExit = (code: number | null, signal: string | null) => done({ gone: `exited (${signal ?? code})` });
    const timer = setTimeout(() => done({ gone: `no answer within ${Math.round(ms / 1000)} s` }), ms);
    child.on('message', onMessage);
    child.once('exit', onExit);
    if (exited(child)) done({ gone: `exited (${child.signalCode ?? child.exitCode})` });
  });
}

// ---------------------------------------------------------------- upstreams

interface Upstream {
  child: ChildProcess;
  port: number;
  node: string;
}

async function startUpstream(cpus: string | undefined): Promise<Upstream> {
  const child = spawnNode(UPSTREAM, [], cpus === undefined ? {} : { cpus });
  const first = await nextMessage<UpstreamMessage>(child, 15_000);
  if ('gone' in first || first.message.type !== 'ready') {
    throw new Error(`upstream replica did not start: ${'gone' in first ? first.gone : JSON.stringify(first.message)}`);
  }
  return { child, port: first.message.port, node: first.message.node };
}

async function requestCount(upstream: Upstream): Promise<number> {
  upstream.child.send({ type: 'count' } satisfies UpstreamRequest);
  const reply = await nextMessage<UpstreamMessage>(upstream.child, 2000);
  return 'message' in reply && reply.message.type === 'count' ? reply.message.requests : Number.NaN;
}

// ---------------------------------------------------------------- proxies

/** Runs bench/setup.sh when a proxy is missing; returns what went wrong, if anything. */
function installProxies(): string | undefined {
  const missing = (['haproxy', 'nginx'] as const).filter((k) => findBinary(k) === undefined);
  if (missing.length === 0) return undefined;
  if (!options.install) return 'not installed (--no-install)';
  log(`bench: ${missing.join(' and ')} missing, running bench/setup.sh`);
  const out = spawnSync('bash', [join(BENCH_DIR, 'setup.sh')], { encoding: 'utf8', timeout: 300_000 });
  if (out.error) return `bench/setup.sh: ${out.error.message}`;
  if (out.status === 0) return undefined;
  const said = `${out.stderr ?? ''}`.split('\n').filter((l) => l.startsWith('setup:'));
  return said.pop() ?? `bench/setup.sh exited ${out.status}`;
}

async function smokeTest(url: string): Promise<void> {
  const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
  const body = await res.arrayBuffer();
  if (res.status !== 200 || body.byteLength !== 1024) {
    throw new Error(`smoke request answered ${res.status} with ${body.byteLength} bytes`);
  }
}

// ---------------------------------------------------------------- load generators

interface Row {
  id: RowId;
  label: string;
  child?: ChildProcess;
  /** Whether the generator had its first, long warm-up. */
  warmed: boolean;
  record: RowRecord;
}

async function startRow(id: RowId, client: ClientSpec | { reason: string }, cpus: string | undefined): Promise<Row> {
  const label = ROW_LABELS[id];
  const row: Row = { id, label, warmed: false, record: { id, label, runs: [] } };
  if ('reason' in client) {
    row.record.reason = client.reason;
    return row;
  }
  const child = spawnNode(LOADGEN, [JSON.stringify(client)], {
    nodeFlags: ['--expose-gc'],
    ...(cpus === undefined ? {} : { cpus }),
  });
  const first = await nextMessage<LoadgenMessage>(child, 30_000);
  if ('message' in first && first.message.type === 'ready') {
    if (!first.message.node.startsWith('v24.')) log(`bench: warning: ${label} runs Node ${first.message.node}`);
    row.child = child;
  } else {
    row.record.reason =
      'gone' in first
        ? `load generator ${first.gone}`
        : first.message.type === 'unavailable'
          ? first.message.reason
          : 'unexpected first message';
    child.kill('SIGKILL');
  }
  return row;
}

async function measure(row: Row, mode: LoadMode, durationMs: number): Promise<LoadReply> {
  const warmupMs = row.warmed ? options.rewarmMs : options.warmupMs;
  row.warmed = true;
  const child = row.child!;
  const request: LoadgenRequest = {
    type: 'run',
    run: { mode, warmupMs, durationMs, maxRequests: MAX_REQUESTS_PER_RUN },
  };
  child.send(request);
  const answer = await nextMessage<LoadgenMessage>(child, warmupMs + durationMs + 45_000);
  if ('message' in answer && answer.message.type === 'result') return answer.message.reply;
  child.kill('SIGKILL');
  return { ok: false, reason: `load generator ${'gone' in answer ? answer.gone : 'sent an unexpected message'}` };
}

async function runRounds(
  title: string,
  rows: Row[],
  rounds: number,
  upstreams: Upstream[],
  mode: LoadMode,
  durationMs: number,
  describe: (r: LoadResult) => string,
): Promise<RowRecord[]> {
  const records = rows.map((row) => ({ ...row.record, runs: [] }) as RowRecord);
  for (let round = 1; round <= rounds; round++) {
    for (const [i, row] of rows.entries()) {
      const record = records[i]!;
      if (record.reason !== undefined || !row.child) continue;
      const before = await Promise.all(upstreams.map(requestCount));
      const reply = await measure(row, mode, durationMs);
      const after = await Promise.all(upstreams.map(requestCount));
      const perReplica = after.map((n, k) => n - before[k]!);
      const tag = `[${title} ${round}/${rounds}] ${row.label.padEnd(20)}`;
      if (reply.ok) {
        record.runs.push({ round, result: reply, perReplica });
        log(`${tag} ${describe(reply)}${reply.errors ? ` (${reply.errors} errors: ${reply.firstError})` : ''}`);
      } else {
        // A row that failed once is not run again: its numbers would mislead.
        record.runs.push({ round, error: reply.reason });
        record.reason = reply.reason;
        log(`${tag} failed: ${reply.reason}`);
      }
    }
  }
  return records;
}

// ---------------------------------------------------------------- header

function gitCommit(): string | undefined {
  // Read-only: names the commit the sources came from.
  const out = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8', timeout: 5000 });
  return out.status === 0 ? out.stdout.trim() : undefined;
}

function commandLine(): string {
  const args = process.argv
    .slice(2)
    .map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`))
    .join(' ');
  if (process.env.npm_lifecycle_event === 'bench') return `npm run bench${args ? ` -- ${args}` : ''}`;
  return `tsx bench/run.ts${args ? ` ${args}` : ''}`;
}

function undiciVersion(): string {
  try {
    const file = join(ROOT, 'node_modules', 'undici', 'package.json');
    return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const startedAt = Date.now();
  const tmp = mkdtempSync(join(os.tmpdir(), 'proxyless-bench-'));
  installExitHandlers(() => rmSync(tmp, { recursive: true, force: true }));

  const cpuCount = os.availableParallelism();
  const pin = options.pin && cpuCount >= 2 && hasTaskset();
  const loadCpus = pin ? '0' : undefined;
  const restCpus = pin ? `1-${cpuCount - 1}` : undefined;

  const n = options.rows.length;
  const estimateS = Math.round(
    n * options.warmupMs / 1000 +
      n * options.rounds * ((options.rewarmMs + options.closedMs) / 1000 + 0.15) +
      (options.fixed ? n * options.fixedRounds * ((options.rewarmMs + options.fixedMs) / 1000 + 0.35) : 0) +
      6,
  );
  // Bounded as a whole: if anything hangs, stop everything.
  const limitS = estimateS * 2 + 120;
  setTimeout(() => {
    log(`bench: still running after ${limitS} s; stopping`);
    process.exit(1);
  }, limitS * 1000).unref();

  // Proxies first: installing them is the slow, fallible part.
  const installProblem = installProxies();
  const binaries = new Map<ProxyKind, string>();
  const proxyNote: Record<ProxyKind, string> = { haproxy: '', nginx: '' };
  for (const kind of ['haproxy', 'nginx'] as const) {
    const binary = findBinary(kind);
    if (binary) binaries.set(kind, binary);
    proxyNote[kind] = binary ? versionOf(binary) : `not installed${installProblem ? ` (${installProblem})` : ''}`;
  }

  const upstreams: Upstream[] = [];
  for (let i = 0; i < REPLICAS; i++) upstreams.push(await startUpstream(restCpus));
  const replicaPorts = upstreams.map((u) => u.port);

  const meta = {
    date: new Date().toISOString(),
    command: commandLine(),
    node: process.version,
    childNode: upstreams[0]!.node,
    undici: undiciVersion(),
    nodeBundledUndici: process.versions.undici ?? 'unknown',
    cpu: `${os.cpus()[0]?.model.trim() ?? 'unknown'} × ${cpuCount}`,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    commit: gitCommit(),
    haproxy: proxyNote.haproxy,
    nginx: proxyNote.nginx,
    pinning: pin ? `load generators on CPU 0; replicas and proxies on CPUs ${restCpus}` : 'none',
  };
  const out: string[] = [];
  const print = (text = '') => {
    out.push(text);
    process.stdout.write(`${text}\n`);
  };
  print('# proxyless load bench');
  print();
  print(`- command: \`${meta.command}\``);
  print(`- Node ${meta.node} (children ${meta.childNode}); undici ${meta.undici}; global fetch: Node's undici ${meta.nodeBundledUndici}`);
  print(`- CPU: ${meta.cpu}; ${meta.os}${meta.commit ? `; commit ${meta.commit}` : ''}`);
  print(`- haproxy: ${meta.haproxy}; nginx: ${meta.nginx}`);
  print(
    `- ${REPLICAS} replicas (node:http, 1 KiB bodies, keep-alive), one load-generator process per row; ` +
      `first warm-up ${options.warmupMs / 1000} s, then ${options.rewarmMs / 1000} s before each run; pinning: ${meta.pinning}`,
  );
  print();
  if (meta.childNode !== process.version) log(`bench: warning: children run ${meta.childNode}, this process ${process.version}`);
  log(`bench: replicas on ports ${replicaPorts.join(', ')}; expected run time ~${estimateS} s`);

  // One topology per proxy row.
  const running: RunningTopology[] = [];
  const proxyTargets = new Map<RowId, ClientSpec | { reason: string }>();
  for (const id of ['haproxy-1', 'nginx-1', 'haproxy-2', 'nginx-2'] as const) {
    if (!options.rows.includes(id)) continue;
    const kind: ProxyKind = id.startsWith('haproxy') ? 'haproxy' : 'nginx';
    const binary = binaries.get(kind);
    if (!binary) {
      proxyTargets.set(id, { reason: `${kind} ${proxyNote[kind]}` });
      continue;
    }
    try {
      const topology = id.endsWith('-1') ? await oneHop(replicaPorts) : await twoHops(replicaPorts);
      const started = await startTopology(kind, binary, join(tmp, id), topology, restCpus);
      running.push(started);
      await smokeTest(`${started.entryUrl}${PATH}`);
      proxyTargets.set(id, { kind: 'undici', urls: [`${started.entryUrl}${PATH}`] });
    } catch (error) {
      proxyTargets.set(id, { reason: (error as Error).message });
    }
  }

  const replicaUrls = replicaPorts.map((p) => `http://127.0.0.1:${p}${PATH}`);
  const endpoints = replicaPorts.map((p) => `127.0.0.1:${p}`);
  const clientFor = (id: RowId): ClientSpec | { reason: string } => {
    switch (id) {
      case 'raw':
      case 'raw-again':
        return { kind: 'undici', urls: replicaUrls };
      case 'fetch':
        return { kind: 'fetch', urls: replicaUrls };
      case 'mesh-request':
      case 'mesh-fetch':
        return { kind: id, service: 'echo', endpoints, path: PATH };
      default:
        return proxyTargets.get(id)!;
    }
  };
  const rows = await Promise.all(options.rows.map((id) => startRow(id, clientFor(id), loadCpus)));
  for (const row of rows) if (row.record.reason) log(`bench: ${row.label}: unavailable: ${row.record.reason}`);

  const closedRecords = await runRounds(
    'closed',
    rows,
    options.rounds,
    upstreams,
    { kind: 'closed', concurrency: options.concurrency },
    options.closedMs,
    (r) =>
      `${num(r.rps).padStart(7)} req/s  p50 ${num(r.latencyUs.p50)} µs  p99 ${num(r.latencyUs.p99)} µs  ` +
      `${num(r.cpuPerRequestUs, 1)} µs CPU/req`,
  );
  // A row that failed in the closed loop is not retried at a fixed rate.
  for (const [i, row] of rows.entries()) {
    const reason = closedRecords[i]!.reason;
    if (reason !== undefined) row.record.reason ??= reason;
  }
  const fixedRecords = options.fixed
    ? await runRounds(
        'fixed',
        rows,
        options.fixedRounds,
        upstreams,
        { kind: 'fixed', rate: options.rate, warmupConcurrency: options.concurrency },
        options.fixedMs,
        (r) =>
          `${num(r.rps).padStart(7)} req/s  p50 ${num(r.latencyUs.p50)} µs  p99 ${num(r.latencyUs.p99)} µs  ` +
          `p99.9 ${num(r.latencyUs.p999)} µs  send lag ≤ ${r.maxSendLagMs} ms`,
      )
    : [];

  // Close the clients (mesh.close() included), then the servers.
  await Promise.all(
    rows.map(async (row) => {
      if (!row.child || exited(row.child)) return;
      row.child.send({ type: 'close' } satisfies LoadgenRequest);
      await waitExit(row.child, 4000);
    }),
  );
  for (const t of running) t.stop();

  const closed = closedRecords.map(summarizeClosed);
  const fixed = fixedRecords.map(summarizeFixed);
  print(
    `## Throughput: closed loop, concurrency ${options.concurrency} ` +
      `(median of ${options.rounds} run${options.rounds > 1 ? 's' : ''} × ${options.closedMs / 1000} s)`,
  );
  print();
  print(closedTable(closed));
  print();
  print(
    'Client CPU: user + system CPU of the load-generator process over the run / completed requests (the harness is in ' +
      'every row alike). Spread: ± half the range of the runs’ req/s. “× raw” and “added”: against raw undici.request.',
  );
  for (const s of closed) {
    if (s.replicaShare?.some((x) => Math.abs(x - 1 / REPLICAS) > 0.1)) {
      print(`- note: ${s.label} spread its requests unevenly over the replicas: ${s.replicaShare.join(' / ')}`);
    }
    if (s.errors > 0) print(`- note: ${s.label} had ${num(s.errors)} failed requests`);
  }
  print();
  if (options.fixed) {
    print(
      `## Latency: open loop at ${num(options.rate)} req/s ` +
        `(${options.fixedRounds} run${options.fixedRounds > 1 ? 's' : ''} × ${options.fixedMs / 1000} s, samples pooled)`,
    );
    print();
    print(fixedTable(fixed));
    print();
    print('Latency: from the call to the last body byte, timed from the actual send. “Added”: against raw undici.request.');
    for (const s of fixed) {
      if (s.maxSendLagMs > 20) print(`- note: ${s.label}: sends fell up to ${s.maxSendLagMs} ms behind schedule`);
      if (s.errors > 0) print(`- note: ${s.label} had ${num(s.errors)} failed requests`);
    }
    print();
  }
  const goals = targets(closed, fixed, options.rate);
  print('## Targets');
  print();
  print(targetsTable(goals));
  print();
  const elapsedS = Math.round((Date.now() - startedAt) / 1000);
  print(`(${elapsedS} s)`);

  const withoutSamples = (records: RowRecord[]) =>
    records.map((r) => ({
      ...r,
      runs: r.runs.map((run) => ({ ...run, result: run.result && { ...run.result, samplesUs: undefined } })),
    }));
  const json = {
    meta: { ...meta, elapsedS },
    options,
    replicas: replicaPorts,
    closed: { summary: closed, rows: withoutSamples(closedRecords) },
    fixed: options.fixed ? { summary: fixed, rows: withoutSamples(fixedRecords) } : undefined,
    targets: goals,
    markdown: out.join('\n'),
  };
  const jsonFile = options.json ?? join(BENCH_DIR, 'results', 'last.json');
  mkdirSync(dirname(jsonFile), { recursive: true });
  writeFileSync(jsonFile, `${JSON.stringify(json, null, 2)}\n`);
  log(`bench: wrote ${jsonFile}`);
  killAll();
}

await main();
process.exit(0);
