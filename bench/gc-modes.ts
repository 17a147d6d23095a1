/**
 * `npm run bench:gc-modes`: the same closed loop (concurrency 50, three
 * replicas, 1 KiB responses) in many fresh processes, raw undici.request,
 * mesh.request and (with `--sides`) the full stack, or mesh.request with
 * telemetry off (`quiet`) and fully on (`otel`, as proxyless/otel sets it
 * up; `otel-1pct`, the same sampling 1% of traces, Istio's default;
 * `quiet-header`, telemetry off with the caller sending a traceparent;
 * `otel-sdk`, an application's own SDK provider), each with V8's
 * defaults and with `--no-allocation-site-pretenuring`. Prints every
 * process's CPU, GC pause, page faults and context switches per request,
 * then medians, then each mesh side against raw in the same mode (and
 * `mesh`, whose metrics are on, and the otel sides against `quiet`): req/s ratio and added CPU per request, with
 * 90% intervals that resample processes, and the median of the per-round
 * ratios (each round runs every side once, back to back), which a slow
 * phase of the VM lasting a round or more does not move.
 *
 * Why: on V8's defaults a process sometimes pretenures request objects
 * early in its life and then spends ~10 times longer in scavenges for the
 * rest of it; which processes do is a coin flip. This bench shows the two
 * modes side by side, so a reader can tell a bench run's spread from a
 * change in the code (bench/README.md, "Two processes of one client").
 *
 * It is also the client-CPU bench with the least noise this VM allows:
 * each process is one client alone, the sides take turns (the order
 * rotates per process), and the pretenuring coin is either taken out
 * (the flag) or shown (the GC column). With `taskset` and two or more
 * CPUs (`--pin`, the default) the client runs alone on CPU 0 and the
 * replicas on the rest, so the client's CPU per request is not shared
 * with the replicas' caches and run queue (as `npm run bench -- --pin`).
 * V8's helper threads then share CPU 0 with the client: their time was
 * always in the client's CPU, and now its req/s pays for it too.
 *
 * The warm-up is long (150,000 requests, ~6 s) because V8 grows its young
 * generation for seconds, page by page, and each new page is a page fault
 * in the kernel. A client that allocates a little more grows it later:
 * after a 30,000-request warm-up the mesh's clients were still growing it
 * in the measured window (~260 faults per 1,000 requests against raw's
 * ~12) and were charged that kernel time. The faults column shows
 * whether a run measured steady state.
 *
 * A/B against another checkout: `--base <dir> --base-sides quiet,otel` adds
 * those sides as built by the checkout in <dir> (its own
 * bench/lib/gc-mode-client.ts and src/, with node_modules of its own or a
 * symlink), named `otel@base` and so on, in the same rounds; each is then
 * compared with this checkout's side of the same name, paired by round.
 *
 *   npm run bench:gc-modes [-- --processes 6 --requests 60000 --warmup 150000 --sides raw,mesh,full,quiet,quiet-header,otel,otel-1pct,otel-sdk --modes defaults,no-pretenuring --no-pin --base ../other-checkout --base-sides quiet,otel]
 */
import os from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { hasTaskset, installExitHandlers, killAll, nextMessage, spawnNode } from './lib/children.js';
import type { LoopReading } from './lib/process-loop.js';
import { bootstrap, median } from './lib/report.js';
import { markdownTable, num, ratio, signed } from './lib/table.js';

const { values } = parseArgs({
  options: {
    processes: { type: 'string', default: '6' },
    requests: { type: 'string', default: '60000' },
    warmup: { type: 'string', default: '150000' },
    sides: { type: 'string', default: 'raw,mesh' },
    modes: { type: 'string', default: 'defaults,no-pretenuring' },
    pin: { type: 'boolean', default: true },
    base: { type: 'string' },
    'base-sides': { type: 'string', default: '' },
  },
  allowNegative: true,
});
const PROCESSES = Number(values.processes);
const REQUESTS = Number(values.requests);
const WARMUP = Number(values.warmup);
const SIDES = values.sides.split(',').filter((s) => s !== '');
const MODES = values.modes.split(',').filter((m) => m !== '');
const KNOWN = ['raw', 'mesh', 'full', 'quiet', 'quiet-header', 'otel', 'otel-1pct', 'otel-sdk'];
for (const side of SIDES) if (!KNOWN.includes(side)) throw new Error(`--sides: unknown side ${side} (${KNOWN.join(', ')})`);
for (const mode of MODES) if (mode !== 'defaults' && mode !== 'no-pretenuring') throw new Error(`--modes: unknown mode ${mode} (defaults, no-pretenuring)`);
if (!SIDES.includes('raw')) throw new Error('--sides must include raw: every other side is compared with it');
const BASE = values.base === undefined ? undefined : resolve(values.base);
const BASE_SIDES = values['base-sides'].split(',').filter((s) => s !== '');
if (BASE === undefined && BASE_SIDES.length > 0) throw new Error('--base-sides needs --base <dir>');
for (const side of BASE_SIDES) if (!SIDES.includes(side)) throw new Error(`--base-sides: ${side} is not among --sides`);
if (BASE !== undefined && BASE_SIDES.length === 0) throw new Error('--base needs --base-sides (for example quiet,otel)');
const BASE_CLIENT = BASE === undefined ? undefined : resolve(BASE, 'bench/lib/gc-mode-client.ts');
/** A side as run: this checkout's, or the base checkout's (`otel@base`). */
const ALL_SIDES = [...SIDES, ...BASE_SIDES.map((s) => `${s}@base`)];
const UPSTREAM = fileURLToPath(new URL('./lib/upstream.ts', import.meta.url));
const CLIENT = fileURLToPath(new URL('./lib/gc-mode-client.ts', import.meta.url));
const FLAG = '--no-allocation-site-pretenuring';
const CPUS = os.availableParallelism();
const PIN = values.pin && CPUS >= 2 && hasTaskset();
const CLIENT_CPUS = PIN ? '0' : undefined;
const REPLICA_CPUS = PIN ? `1-${CPUS - 1}` : undefined;

type Reading = LoopReading & { side: string };

installExitHandlers(killAll);
const ports: number[] = [];
for (let i = 0; i < 3; i++) {
  const child = spawnNode(UPSTREAM, [], { cpus: REPLICA_CPUS });
  const first = await nextMessage<{ port: number }>(child, 30_000);
  if ('gone' in first) throw new Error(`replica did not start: ${first.gone}`);
  ports.push(first.message.port);
}

const readings = new Map<string, Reading[]>();
const kinds: Array<[side: string, flags: string[]]> = MODES.flatMap((mode) => ALL_SIDES.map((side): [string, string[]] => [side, mode === 'defaults' ? [] : [FLAG]]));
const keyOf = (side: string, flags: string[]) => `${side}${flags.length > 0 ? `, ${FLAG}` : ', V8 defaults'}`;
const rows: string[][] = [];
for (let p = 1; p <= PROCESSES; p++) {
  // Rotate who goes first, so no side always runs on a warmer (or cooler) machine.
  for (let k = 0; k < kinds.length; k++) {
    const [side, flags] = kinds[(p - 1 + k) % kinds.length]!;
    const fromBase = side.endsWith('@base');
    const client = fromBase ? BASE_CLIENT! : CLIENT;
    const child = spawnNode(client, [side.replace('@base', ''), ports.join(','), String(WARMUP), String(REQUESTS)], { nodeFlags: flags, cpus: CLIENT_CPUS });
    const answer = await nextMessage<Reading>(child, 300_000);
    if ('gone' in answer) throw new Error(`${side} client failed: ${answer.gone}`);
    const key = keyOf(side, flags);
    const list = readings.get(key) ?? [];
    list.push(answer.message);
    readings.set(key, list);
    const m = answer.message;
    rows.push([String(p), key, num(m.rps), num(m.cpuUs, 1), num(m.systemUs, 1), num(m.gcPauseUs, 2), num(m.faultsPerK, 1), num(m.switchesPerK, 1)]);
    process.stderr.write(`process ${p}/${PROCESSES}: ${key}: ${m.cpuUs.toFixed(1)} µs/req (kernel ${m.systemUs.toFixed(1)}), GC ${m.gcPauseUs.toFixed(2)} µs/req\n`);
  }
}
killAll();

console.log(`Fresh processes, ${REQUESTS.toLocaleString('en-US')} measured requests each (after ${WARMUP.toLocaleString('en-US')} of warm-up), concurrency 50, Node ${process.version}; pinning: ${PIN ? `client on CPU 0, replicas on CPUs ${REPLICA_CPUS}` : 'none'}\n`);
const PER_K = ['minor faults per 1k req', 'context switches per 1k req'];
console.log(markdownTable(['process', 'client', 'req/s', 'CPU µs/req', 'of it kernel', 'GC pause µs/req', ...PER_K], rows, ['right', 'left', 'right', 'right', 'right', 'right', 'right', 'right']));
console.log('\nMedians over processes (the GC pause column shows which mode each process was in: ~0.5 against ~5 and up):\n');
console.log(
  markdownTable(
    ['client', 'req/s', 'CPU µs/req', 'of it kernel', 'GC pause µs/req', ...PER_K, 'processes with GC pause > 2 µs/req'],
    [...readings].map(([key, list]) => [
      key,
      num(median(list.map((r) => r.rps))),
      num(median(list.map((r) => r.cpuUs)), 1),
      num(median(list.map((r) => r.systemUs)), 1),
      num(median(list.map((r) => r.gcPauseUs)), 2),
      num(median(list.map((r) => r.faultsPerK)), 1),
      num(median(list.map((r) => r.switchesPerK)), 1),
      `${list.filter((r) => r.gcPauseUs > 2).length} of ${list.length}`,
    ]),
    ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
  ),
);

const comparisons: string[][] = [];
/** `side` against `base` in one GC mode: req/s ratio and added CPU, with intervals that resample processes. */
function compare(side: string, base: string, flags: string[]): void {
  const list = readings.get(keyOf(side, flags)) ?? [];
  const against = readings.get(keyOf(base, flags)) ?? [];
  if (list.length === 0 || against.length === 0) return;
  const rps = (l: Reading[]) => l.map((r) => r.rps);
  const cpu = (l: Reading[]) => l.map((r) => r.cpuUs);
  const [lo, hi] = bootstrap([rps(list), rps(against)], ([m, r]) => median(m!) / median(r!));
  const [clo, chi] = bootstrap([cpu(list), cpu(against)], ([m, r]) => median(m!) - median(r!));
  // Paired: the two sides' processes of one round ran within a minute of each other, so a slow
  // phase of the VM that spans a round slows both; the per-round ratio cancels it.
  const rounds = Math.min(list.length, against.length);
  const paired = Array.from({ length: rounds }, (_, i) => list[i]!.rps / against[i]!.rps);
  const [plo, phi] = bootstrap([paired], ([r]) => median(r!));
  comparisons.push([
    keyOf(side, flags),
    base,
    ratio(median(rps(list)) / median(rps(against))),
    `${ratio(lo)} … ${ratio(hi)}`,
    `${ratio(median(paired))} (${ratio(plo)} … ${ratio(phi)})`,
    `${signed(median(cpu(list)) - median(cpu(against)))} (${signed(clo)} … ${signed(chi)})`,
  ]);
}
for (const mode of MODES) {
  const flags = mode === 'defaults' ? [] : [FLAG];
  for (const side of SIDES) if (side !== 'raw') compare(side, 'raw', flags);
  // Issue 4's target: telemetry fully on against the same client with it off.
  // `mesh` has metrics on (the default) and tracing with no provider: against quiet, the metrics' share.
  const telemetry = ['mesh', 'quiet-header', 'otel-1pct', 'otel', 'otel-sdk'];
  if (SIDES.includes('quiet')) for (const side of telemetry) if (SIDES.includes(side)) compare(side, 'quiet', flags);
  if (BASE_SIDES.includes('quiet')) for (const side of telemetry) if (BASE_SIDES.includes(side)) compare(`${side}@base`, 'quiet@base', flags);
  // This checkout against the base, side by side.
  for (const side of BASE_SIDES) compare(side, `${side}@base`, flags);
}
if (comparisons.length > 0) {
  console.log('\nAgainst a baseline in the same mode (medians over processes; 90% intervals resample processes):\n');
  console.log(
    markdownTable(
      ['client', 'against', '× req/s', '90% interval', '× req/s paired by round (90% interval)', 'added CPU µs/req (90% interval)'],
      comparisons,
      ['left', 'left', 'right', 'right', 'right', 'right'],
    ),
  );
}
process.exit(0);
