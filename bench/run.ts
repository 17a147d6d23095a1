/**
 * `npm run bench`: the load bench. One run prints, as markdown:
 *  1. closed-loop throughput at concurrency 50: req/s, p50, p99, client CPU
 *     per request, and both against raw undici.request;
 *  2. open-loop latency at 1,000 req/s: p50, p99, p99.9, added p50;
 *  3. the mesh's performance targets, met or not, with 90% intervals;
 * for raw undici.request, global fetch, mesh.request, mesh.fetch, and one and
 * two sidecar hops through haproxy and nginx. It also writes
 * bench/results/last.json.
 *
 * Processes: three upstream replicas (lib/upstream.ts), the proxies
 * (lib/proxies.ts), one closed-loop load generator per row and then one
 * latency probe holding every row's client (lib/loadgen.ts). This process
 * only orchestrates. Rows take turns, round after round, so drift on the
 * machine hits every row alike; runs that other processes on the machine
 * disturbed are re-done (lib/rounds.ts). Flags: `npm run bench -- --help`.
 */
import { type ChildProcess, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasTaskset, installExitHandlers, killAll, nextMessage, spawnNode } from './lib/children.js';
import { LoadGenerator } from './lib/generators.js';
import { describeNodeFlags } from './lib/node-flags.js';
import { parseOptions, ROW_LABELS, type RowId, roundOrder } from './lib/options.js';
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
import { DISTURBED, type Redo, runUnit } from './lib/rounds.js';
import { num } from './lib/table.js';
import type { ClientSpec, LoadReply, UpstreamMessage, UpstreamRequest } from './lib/types.js';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH_DIR);
const UPSTREAM = join(BENCH_DIR, 'lib', 'upstream.ts');
const REPLICAS = 3;
const PATH = '/bench';
const MAX_REQUESTS_PER_RUN = 20_000_000;

const options = parseOptions(process.argv.slice(2));

function log(line: string): void {
  process.stderr.write(`${line}\n`);
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

function describeClosed(label: string, reply: LoadReply): string {
  if (!reply.ok) return `${label} failed: ${reply.reason}`;
  const errors = reply.errors ? ` (${reply.errors} errors: ${reply.firstError})` : '';
  return (
    `${label} ${num(reply.rps).padStart(7)} req/s  p50 ${num(reply.latencyUs.p50)} µs  ` +
    `p99 ${num(reply.latencyUs.p99)} µs  ${num(reply.cpuPerRequestUs, 1)} µs CPU/req${errors}`
  );
}

function busyNote(foreign: number | undefined, redoing: boolean): string {
  if (foreign === undefined || foreign <= DISTURBED) return '';
  return `  [other processes used ${(foreign * 100).toFixed(0)}% of the CPU${redoing ? '; re-doing' : ''}]`;
}

async function main(): Promise<void> {
  const startedAt = Date.now();
  const tmp = mkdtempSync(join(os.tmpdir(), 'proxyless-bench-'));
  installExitHandlers(() => rmSync(tmp, { recursive: true, force: true }));

  const cpuCount = os.availableParallelism();
  const pin = options.pin && cpuCount >= 2 && hasTaskset();
  const loadCpus = pin ? '0' : undefined;
  const restCpus = pin ? `1-${cpuCount - 1}` : undefined;

  const n = options.rows.length;
  const fixedS = options.fixed ? n * (options.warmupMs / 2000 + options.fixedMs / 1000 + 0.05) + 3 : 0;
  const estimateS = Math.round(
    (n * options.generators * options.warmupMs) / 1000 + n * options.rounds * ((options.rewarmMs + options.closedMs) / 1000 + 0.1) + fixedS + 8,
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
    nodeFlags: describeNodeFlags(),
  };
  const out: string[] = [];
  const print = (text = '') => {
    out.push(text);
    process.stdout.write(`${text}\n`);
  };
  print('# proxyless load bench');
  print();
  print(`- command: \`${meta.command}\``);
  print(
    `- Node ${meta.node} (children ${meta.childNode}); undici ${meta.undici}; ` +
      `global fetch: Node's bundled undici ${meta.nodeBundledUndici}`,
  );
  print(`- CPU: ${meta.cpu}; ${meta.os}${meta.commit ? `; commit ${meta.commit}` : ''}`);
  print(`- haproxy: ${meta.haproxy}; nginx: ${meta.nginx}; Node processes: ${meta.nodeFlags}`);
  print(
    `- ${REPLICAS} upstream replicas (node:http, 1 KiB bodies, keep-alive), each its own process; ` +
      `load generators in processes of their own; pinning: ${meta.pinning}` +
      `${options.meshLb ? `; mesh load balancer: ${options.meshLb}` : ''}`,
  );
  print();
  if (meta.childNode !== process.version) {
    log(`bench: warning: children run ${meta.childNode}, this process ${process.version}`);
  }
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
      case 'mesh-full':
      case 'mesh-quiet':
      case 'mesh-otel':
        return {
          kind: id,
          service: 'echo',
          endpoints,
          path: PATH,
          ...(options.meshLb === undefined ? {} : { lbPolicy: options.meshLb }),
        };
      default:
        return proxyTargets.get(id)!;
    }
  };

  // Rows that cannot run carry their reason into both tables.
  const reasons = new Map<RowId, string>();
  const clients = new Map<RowId, ClientSpec>();
  for (const id of options.rows) {
    const client = clientFor(id);
    if ('reason' in client) reasons.set(id, client.reason);
    else clients.set(id, client);
  }
  const newRecords = () =>
    new Map<RowId, RowRecord>(
      options.rows.map((id) => {
        const record: RowRecord = { id, label: ROW_LABELS[id], runs: [] };
        const reason = reasons.get(id);
        if (reason !== undefined) record.reason = reason;
        return [id, record];
      }),
    );
  const redo: Redo = {
    count: 0,
    maxCount: Math.ceil((n * options.rounds + (options.fixed ? options.fixedMs / options.sliceMs : 0)) * 0.5),
    spentMs: 0,
    maxMs: estimateS * 150,
    worstForeign: 0,
  };
  const counts = () => Promise.all(upstreams.map(requestCount));

  // ---- Phase 1: closed loop, `options.generators` load generators per row, taking turns over the rounds.
  const closedRecords = newRecords();
  const generators = new Map<RowId, LoadGenerator[]>();
  await Promise.all(
    [...clients].map(async ([id, client]) => {
      try {
        const started = await Promise.all(Array.from({ length: options.generators }, () => LoadGenerator.start({ [id]: client }, loadCpus)));
        generators.set(id, started);
        const reason = started[0]!.unavailable[id];
        if (reason !== undefined) reasons.set(id, reason);
      } catch (error) {
        reasons.set(id, (error as Error).message);
      }
    }),
  );
  for (const [id, reason] of reasons) {
    closedRecords.get(id)!.reason ??= reason;
    log(`bench: ${ROW_LABELS[id]}: unavailable: ${reason}`);
  }
  const warmed = new Set<LoadGenerator>();
  // The replicas' own JIT warms up here, on the raw row's first generator, so
  // the first row of round 1 does not pay for it.
  const first = generators.get('raw')?.[0];
  if (first && closedRecords.get('raw')!.reason === undefined) {
    const run = { kind: 'closed' as const, row: 'raw', concurrency: options.concurrency, durationMs: 100 };
    await first.run({ ...run, warmupMs: options.warmupMs, maxRequests: MAX_REQUESTS_PER_RUN }, options.warmupMs + 45_000);
    warmed.add(first);
  }
  for (let round = 1; round <= options.rounds; round++) {
    for (const id of roundOrder(options.rows, round)) {
      const turns = generators.get(id);
      if (!turns || closedRecords.get(id)!.reason !== undefined) continue;
      const generator = turns[(round - 1) % turns.length]!;
      const tag = `[closed ${round}/${options.rounds}] ${ROW_LABELS[id].padEnd(24)}`;
      await runUnit(
        {
          rows: [id],
          replicaCounts: counts,
          run: () => {
            const warmupMs = warmed.has(generator) ? options.rewarmMs : options.warmupMs;
            warmed.add(generator);
            const run = {
              kind: 'closed' as const,
              row: id,
              concurrency: options.concurrency,
              warmupMs,
              durationMs: options.closedMs,
              maxRequests: MAX_REQUESTS_PER_RUN,
            };
            return generator.run(run, warmupMs + options.closedMs + 45_000);
          },
        },
        round,
        closedRecords,
        redo,
        (replies, foreign, redoing) => log(`${tag}${describeClosed('', replies[id]!)}${busyNote(foreign, redoing)}`),
      );
    }
  }
  await Promise.all([...generators.values()].flat().map((g) => g.close()));

  // ---- Phase 2: fixed rate, one probe holding every row that ran, slice by slice.
  const fixedRecords = newRecords();
  const fixedRows = options.rows.filter((id) => clients.has(id) && closedRecords.get(id)!.runs.some((r) => r.result));
  for (const id of options.rows) {
    const closedReason = closedRecords.get(id)!.reason;
    if (!fixedRows.includes(id) && closedReason !== undefined) fixedRecords.get(id)!.reason ??= closedReason;
  }
  if (options.fixed && fixedRows.length > 0) {
    let probe: LoadGenerator | undefined;
    try {
      probe = await LoadGenerator.start(Object.fromEntries(fixedRows.map((id) => [id, clients.get(id)!])), loadCpus);
    } catch (error) {
      for (const id of fixedRows) fixedRecords.get(id)!.reason = (error as Error).message;
    }
    const slices = Math.max(1, Math.round(options.fixedMs / options.sliceMs));
    for (let round = 1; probe && round <= slices; round++) {
      const rows = fixedRows.filter((id) => fixedRecords.get(id)!.reason === undefined);
      if (rows.length === 0) break;
      const order = roundOrder(rows, round);
      const warmupMs = round === 1 ? options.warmupMs / 2 : 0;
      await runUnit(
        {
          rows: order,
          run: () =>
            probe.run(
              {
                kind: 'sliced',
                rows: order,
                rate: options.rate,
                sliceMs: options.sliceMs,
                warmupMs,
                warmupConcurrency: options.concurrency,
              },
              rows.length * (warmupMs + options.sliceMs) + 45_000,
            ),
        },
        round,
        fixedRecords,
        redo,
        (replies, foreign, redoing) => {
          if (round % 10 !== 1 && !redoing && slices > 12) return;
          const p50s = rows.map((id) => {
            const r = replies[id];
            return `${id} ${r?.ok ? num(r.latencyUs.p50) : 'failed'}`;
          });
          log(`[fixed ${round}/${slices}] p50 µs: ${p50s.join(' · ')}${busyNote(foreign, redoing)}`);
        },
      );
    }
    await probe?.close();
  }
  for (const t of running) t.stop();

  // ---- Report.
  const closedList = [...closedRecords.values()];
  const fixedList = [...fixedRecords.values()];
  const closed = closedList.map(summarizeClosed);
  const fixed = fixedList.map(summarizeFixed);
  print(
    `## Throughput: closed loop, concurrency ${options.concurrency} ` +
      `(median of ${options.rounds} run${options.rounds > 1 ? 's' : ''} × ${options.closedMs / 1000} s per row)`,
  );
  print();
  print(closedTable(closed));
  print();
  print(
    'Client CPU: user + system CPU of the row’s load-generator process over the run / completed requests (the ' +
      'harness is in every row alike). 90% CI: bootstrap interval of the median req/s. “× raw” and “added”: against ' +
      'raw undici.request.',
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
        `(${options.fixedMs / 1000} s per row, in ${options.sliceMs} ms slices taking turns, samples pooled)`,
    );
    print();
    print(fixedTable(fixed));
    print();
    print(
      'Latency: from the call to the last body byte, timed from the actual send. All rows share one probe process, ' +
        'so they are measured under the same conditions. “Added”: against raw undici.request.',
    );
    const lag = Math.max(0, ...fixed.map((s) => s.maxSendLagMs));
    if (lag > 20) {
      print(`- note: the probe's sends fell up to ${num(lag, 1)} ms behind schedule at times (event-loop stalls)`);
    }
    for (const s of fixed) if (s.errors > 0) print(`- note: ${s.label} had ${num(s.errors)} failed requests`);
    print();
  }
  const goals = targets(closedList, fixedList, options.rate);
  print('## Targets');
  print();
  print(targetsTable(goals));
  print();
  const kept = [...closedList, ...fixedList].flatMap((r) => r.runs).filter((r) => r.disturbed).length;
  const elapsedS = Math.round((Date.now() - startedAt) / 1000);
  print(
    `Other processes on the machine used at most ${(redo.worstForeign * 100).toFixed(0)}% of its CPU during a run; ` +
      `${redo.count} disturbed run${redo.count === 1 ? ' was' : 's were'} re-done` +
      `${kept > 0 ? `; ${kept} could not be, and are left out where a row has undisturbed runs` : ''}. ` +
      `${elapsedS} s in all.`,
  );

  const withoutSamples = (records: RowRecord[]) =>
    records.map((r) => ({
      ...r,
      runs: r.runs.map((run) => ({ ...run, result: run.result && { ...run.result, samplesUs: undefined } })),
    }));
  const json = {
    meta: { ...meta, elapsedS, redone: redo.count, disturbedKept: kept, worstForeignCpu: redo.worstForeign },
    options,
    replicas: replicaPorts,
    closed: { summary: closed, rows: withoutSamples(closedList) },
    fixed: options.fixed ? { summary: fixed, rows: withoutSamples(fixedList) } : undefined,
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
