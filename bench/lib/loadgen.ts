/**
 * The load generator, started by bench/run.ts with its clients (row id ->
 * ClientSpec, as JSON) as its only argument. It builds them (raw undici,
 * global fetch, the mesh, or undici against a proxy), says `ready`, then
 * answers each `run` over IPC:
 *  - closed: one row, a warm-up, then a closed loop (bench/run.ts starts one
 *    such process per row, so rows never share a heap or JIT state);
 *  - sliced: a fixed-rate slice for each of several rows in turn (the latency
 *    probe: all rows in one process, so the rows' latencies are compared
 *    under the same conditions, slice by slice).
 * A process lives for the whole phase, so its JIT warm-up is paid once.
 *
 * CPU per request is this process's `process.cpuUsage()` (user + system, all
 * threads, GC included) over the measured phase divided by the completed
 * requests. The harness's own per-request work (two `performance.now()`, one
 * histogram record) is identical for every row, so it cancels out of the
 * "added vs raw" columns.
 */

import { existsSync } from 'node:fs';
import { createHistogram, performance, type RecordableHistogram } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Pool, request } from 'undici';
import { droppingTracerProvider } from './dropping-tracer.js';
import { fullStack } from './full-stack.js';
import { latencyOf } from './latency.js';
import type {
  ClientSpec,
  ClosedRun,
  LoadgenClients,
  LoadgenMessage,
  LoadgenRequest,
  LoadReply,
  LoadResult,
  SlicedRun,
} from './types.js';

/** Sends one request, reads the whole body, and resolves to the status code. */
type Send = () => Promise<number>;

interface Client {
  send: Send;
  close(): Promise<void>;
}

/** The subset of the mesh API the bench uses (see src/index.ts). */
interface MeshLike {
  ready(): Promise<unknown>;
  request(url: string): Promise<{ statusCode: number; body: { arrayBuffer(): Promise<ArrayBuffer> } }>;
  fetch(url: string): Promise<Response>;
  close(): Promise<unknown>;
}
type CreateMesh = (options: { config: unknown; telemetry?: unknown }) => MeshLike;

/** Thrown when a row cannot run here (no mesh API yet, ...): reported, not crashed on. */
class Unavailable extends Error {}

const MESH_ENTRY = new URL('../../src/index.ts', import.meta.url);
/** Stop a run early once this many requests failed: the row is broken, not slow. */
const ERROR_LIMIT = 1000;

async function loadCreateMesh(): Promise<CreateMesh> {
  if (!existsSync(fileURLToPath(MESH_ENTRY))) throw new Unavailable('src/index.ts does not exist yet');
  let mod: Record<string, unknown>;
  try {
    mod = (await import(MESH_ENTRY.href)) as Record<string, unknown>;
  } catch (error) {
    throw new Unavailable(`importing src/index.ts failed: ${firstLine(error)}`);
  }
  if (typeof mod.createMesh !== 'function') throw new Unavailable('src/index.ts does not export createMesh yet');
  return mod.createMesh as CreateMesh;
}

async function createClient(spec: ClientSpec): Promise<Client> {
  switch (spec.kind) {
    case 'undici': {
      const urls = spec.urls;
      const pools = urls.map((url) => new Pool(new URL(url).origin));
      const n = urls.length;
      let next = 0;
      return {
        async send() {
          const k = next;
          next = k + 1 === n ? 0 : k + 1;
          const res = await request(urls[k]!, { dispatcher: pools[k]! });
          await res.body.arrayBuffer();
          return res.statusCode;
        },
        async close() {
          await Promise.all(pools.map((pool) => pool.close()));
        },
      };
    }
    case 'fetch': {
      const urls = spec.urls;
      const n = urls.length;
      let next = 0;
      return {
        async send() {
          const k = next;
          next = k + 1 === n ? 0 : k + 1;
          const res = await fetch(urls[k]!);
          await res.arrayBuffer();
          return res.status;
        },
        async close() {},
      };
    }
    case 'mesh-request':
    case 'mesh-fetch':
    case 'mesh-full':
    case 'mesh-quiet':
    case 'mesh-otel': {
      const createMesh = await loadCreateMesh();
      const service = {
        endpoints: spec.endpoints,
        ...(spec.lbPolicy === undefined ? {} : { loadBalancer: { policy: spec.lbPolicy } }),
        ...(spec.kind === 'mesh-full' ? fullStack(spec.path) : {}),
      };
      const telemetry =
        spec.kind === 'mesh-quiet'
          ? { metrics: false, tracing: false }
          : spec.kind === 'mesh-otel'
            ? { metrics: true, tracing: { tracerProvider: await droppingTracerProvider() } }
            : undefined;
      const mesh = createMesh({ config: { services: { [spec.service]: service } }, ...(telemetry ? { telemetry } : {}) });
      await mesh.ready();
      const url = `http://${spec.service}${spec.path}`;
      const send: Send =
        spec.kind !== 'mesh-fetch'
          ? async () => {
              const res = await mesh.request(url);
              await res.body.arrayBuffer();
              return res.statusCode;
            }
          : async () => {
              const res = await mesh.fetch(url);
              await res.arrayBuffer();
              return res.status;
            };
      return {
        send,
        async close() {
          await mesh.close();
        },
      };
    }
  }
}

function firstLine(error: unknown): string {
  const e = error as { code?: unknown; message?: unknown; cause?: { code?: unknown; message?: unknown } };
  const parts = [e?.code, e?.message ?? String(error), e?.cause?.code ?? e?.cause?.message].filter(
    (p) => p !== undefined && p !== '',
  );
  return parts.join(': ').split('\n')[0]!.slice(0, 300);
}

interface Tally {
  completed: number;
  errors: number;
  firstError: string | undefined;
}

function newTally(): Tally {
  return { completed: 0, errors: 0, firstError: undefined };
}


/**
 * Closed loop: `concurrency` workers, each sending its next request as soon
 * as the previous one completed, until `ms` passed or `maxRequests` started.
 */
async function closedLoop(
  send: Send,
  concurrency: number,
  ms: number,
  maxRequests: number,
  h: RecordableHistogram | undefined,
  tally: Tally,
): Promise<void> {
  const deadline = performance.now() + ms;
  let started = 0;
  const worker = async () => {
    for (;;) {
      const t0 = performance.now();
      if (t0 >= deadline || started >= maxRequests || tally.errors >= ERROR_LIMIT) return;
      started++;
      try {
        const status = await send();
        if (status === 200) {
          tally.completed++;
          h?.record(Math.max(1, Math.round((performance.now() - t0) * 1e6)));
        } else {
          tally.errors++;
          tally.firstError ??= `HTTP ${status}`;
        }
      } catch (error) {
        tally.errors++;
        tally.firstError ??= firstLine(error);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/**
 * Open loop at a fixed rate: request i is sent at start + i/rate whether or
 * not earlier ones completed (a 1 ms tick sends whatever is due). Latency is
 * measured from the actual send; the worst lateness against the schedule is
 * reported so a generator that fell behind is visible.
 */
function fixedRate(
  send: Send,
  rate: number,
  ms: number,
  maxRequests: number,
  h: RecordableHistogram,
  tally: Tally,
): Promise<{ samples: Float64Array; count: number; maxLagMs: number }> {
  const total = Math.max(1, Math.min(maxRequests, Math.round((rate * ms) / 1000)));
  const interval = 1000 / rate;
  const samples = new Float64Array(total);
  let count = 0;
  let sent = 0;
  let settled = 0;
  let maxLagMs = 0;
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const finish = () => {
      clearInterval(timer);
      clearTimeout(guard);
      resolve({ samples, count, maxLagMs });
    };
    // Bounded in time even if responses never come back.
    const guard = setTimeout(() => {
      tally.errors += total - settled;
      tally.firstError ??= `${total - settled} requests still pending 10 s after the run`;
      finish();
    }, ms + 10_000);
    const onSettled = () => {
      if (++settled === total) finish();
    };
    const fire = () => {
      const t0 = performance.now();
      send().then(
        (status) => {
          if (status === 200) {
            const ns = Math.max(1, Math.round((performance.now() - t0) * 1e6));
            tally.completed++;
            h.record(ns);
            samples[count++] = ns / 1000;
          } else {
            tally.errors++;
            tally.firstError ??= `HTTP ${status}`;
          }
          onSettled();
        },
        (error: unknown) => {
          tally.errors++;
          tally.firstError ??= firstLine(error);
          onSettled();
        },
      );
    };
    const start = performance.now() + 1;
    timer = setInterval(() => {
      const now = performance.now();
      while (sent < total) {
        const due = start + sent * interval;
        if (due > now) break;
        if (now - due > maxLagMs) maxLagMs = now - due;
        sent++;
        fire();
      }
      if (sent >= total) clearInterval(timer);
    }, 1);
  });
}

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

interface Measured {
  tally: Tally;
  h: RecordableHistogram;
  elapsedMs: number;
  cpu: NodeJS.CpuUsage;
  fixed?: { samples: Float64Array; count: number; maxLagMs: number };
}

function resultOf({ tally, h, elapsedMs, cpu, fixed }: Measured): LoadReply {
  if (tally.completed === 0) return { ok: false, reason: `no request succeeded: ${tally.firstError ?? 'unknown'}` };
  const result: LoadResult = {
    ok: true,
    node: process.version,
    completed: tally.completed,
    errors: tally.errors,
    elapsedMs: Math.round(elapsedMs * 10) / 10,
    rps: Math.round((tally.completed * 1000) / elapsedMs),
    cpuUserUs: cpu.user,
    cpuSystemUs: cpu.system,
    cpuPerRequestUs: Math.round(((cpu.user + cpu.system) / tally.completed) * 100) / 100,
    latencyUs: latencyOf(h),
  };
  if (tally.firstError !== undefined) result.firstError = tally.firstError;
  if (fixed) {
    result.samplesUs = Array.from(fixed.samples.subarray(0, fixed.count), (v) => Math.round(v * 10) / 10);
    result.maxSendLagMs = Math.round(fixed.maxLagMs * 100) / 100;
  }
  return result;
}

async function warmUp(client: Client, concurrency: number, ms: number): Promise<string | undefined> {
  if (ms <= 0) return undefined;
  const warm = newTally();
  await closedLoop(client.send, concurrency, ms, Number.MAX_SAFE_INTEGER, undefined, warm);
  return warm.completed === 0 ? `no request succeeded during warm-up: ${warm.firstError ?? 'unknown'}` : undefined;
}

async function runClosed(run: ClosedRun, client: Client): Promise<LoadReply> {
  // The full GC levels the heap before the warm-up, not after it: a full GC
  // with nothing in flight lets the maps of per-request objects die, and V8
  // then deoptimizes the code that checks for them. Right before a measured
  // run, that measured a client that lets go of finished requests at its
  // interpreter's speed (docs/performance.md, fifth session).
  gc();
  const failed = await warmUp(client, run.concurrency, run.warmupMs);
  if (failed) return { ok: false, reason: failed };
  const h = createHistogram();
  const tally = newTally();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await closedLoop(client.send, run.concurrency, run.durationMs, run.maxRequests, h, tally);
  const elapsedMs = performance.now() - t0;
  return resultOf({ tally, h, elapsedMs, cpu: process.cpuUsage(cpu0) });
}

async function runSliced(run: SlicedRun, clients: Map<string, Client>): Promise<Record<string, LoadReply>> {
  const replies: Record<string, LoadReply> = {};
  if (run.warmupMs > 0) {
    // As in runClosed: the full GC goes before the warm-ups.
    gc();
    await sleep(200);
    for (const row of run.rows) {
      const failed = await warmUp(clients.get(row)!, run.warmupConcurrency, run.warmupMs);
      if (failed) replies[row] = { ok: false, reason: failed };
    }
  }
  const maxRequests = Math.ceil((run.rate * run.sliceMs) / 1000);
  for (const row of run.rows) {
    if (replies[row]) continue;
    const h = createHistogram();
    const tally = newTally();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const fixed = await fixedRate(clients.get(row)!.send, run.rate, run.sliceMs, maxRequests, h, tally);
    const elapsedMs = performance.now() - t0;
    replies[row] = resultOf({ tally, h, elapsedMs, cpu: process.cpuUsage(cpu0), fixed });
  }
  return replies;
}

function send(message: LoadgenMessage): Promise<void> {
  return new Promise((resolve) => {
    if (process.send) process.send(message, () => resolve());
    else resolve();
  });
}

async function main(): Promise<void> {
  if (!process.send) {
    process.stderr.write('loadgen: run by bench/run.ts (needs an IPC channel)\n');
    process.exit(2);
  }
  const specs = JSON.parse(process.argv[2] ?? '{}') as LoadgenClients;
  const clients = new Map<string, Client>();
  const unavailable: Record<string, string> = {};
  for (const [row, spec] of Object.entries(specs)) {
    try {
      clients.set(row, await createClient(spec));
    } catch (error) {
      unavailable[row] = error instanceof Unavailable ? error.message : firstLine(error);
    }
  }
  let busy = false;
  process.on('message', async (message: LoadgenRequest) => {
    if (message.type === 'close') {
      const closing = Promise.all([...clients.values()].map((c) => c.close().catch(() => {})));
      await Promise.race([closing, sleep(2000)]);
      process.exit(0);
    }
    if (message.type !== 'run' || busy) return;
    busy = true;
    const run = message.run;
    let replies: Record<string, LoadReply>;
    try {
      if (run.kind === 'closed') replies = { [run.row]: await runClosed(run, clients.get(run.row)!) };
      else replies = await runSliced(run, clients);
    } catch (error) {
      const reason = firstLine(error);
      const rows = run.kind === 'closed' ? [run.row] : run.rows;
      replies = Object.fromEntries(rows.map((row) => [row, { ok: false, reason } as LoadReply]));
    }
    busy = false;
    await send({ type: 'result', replies });
  });
  await send({ type: 'ready', node: process.version, unavailable });
}

// The orchestrator went away: stop at once.
process.on('disconnect', () => process.exit(0));
void main();
