/**
 * Closed-loop HTTP/1.1 load against one local server, for the benches that
 * compare a server with and without the mesh: `wrk` when the machine has it
 * (a C load generator spends far less CPU per request than any Node client,
 * so the server, not the client, is what gets measured), else undici in
 * this process. Each run reports requests per second and, on Linux, the
 * server process's CPU per request.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Pool } from 'undici';

export interface LoadRun {
  readonly perSecond: number;
  /** The server's user + system CPU per request (µs); NaN where /proc is not there. */
  readonly cpuUsPerRequest: number;
  /** The kernel's part of cpuUsPerRequest (socket reads and writes, epoll): instruction counts leave it out. */
  readonly systemUsPerRequest: number;
  /** The server's minor page faults per 1,000 requests (V8 still growing its heap shows here); NaN without /proc. */
  readonly faultsPerK: number;
}

export type LoadTool = 'wrk' | 'undici';

function has(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** `wrk` when installed (CI installs it), else undici. */
export function pickLoadTool(wanted: string | undefined): LoadTool {
  if (wanted === 'undici' || wanted === 'wrk') return wanted;
  return has('wrk') ? 'wrk' : 'undici';
}

/**
 * Pinning: servers on CPU 1, the load generator on CPU 0, when `taskset`
 * exists and there are two CPUs or more. Without it the kernel moves both
 * around, and a server sharing its core with the load generator now and
 * then reads as slower than it is.
 */
export function cpuPinning(): { server: string[]; load: string[] } {
  const cpus = Number(execFileSync('getconf', ['_NPROCESSORS_ONLN']).toString().trim()) || 1;
  if (cpus < 2 || !has('taskset')) return { server: [], load: [] };
  return { server: ['taskset', '-c', '1'], load: ['taskset', '-c', '0'] };
}

const TICKS_PER_SECOND = 100;

/** CPU ticks (user + system, and system alone) a process has used so far, and its minor page faults; NaN when they cannot be read. */
function processCounters(pid: number): { ticks: number; systemTicks: number; faults: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { ticks: Number(rest[11]) + Number(rest[12]), systemTicks: Number(rest[12]), faults: Number(rest[7]) };
  } catch {
    return { ticks: Number.NaN, systemTicks: Number.NaN, faults: Number.NaN };
  }
}

export interface Target {
  readonly port: number;
  readonly pid: number;
  readonly path: string;
}

/** One closed-loop run of `ms` at `concurrency` connections; fails on any non-2xx answer. */
export async function loadRun(tool: LoadTool, target: Target, ms: number, concurrency: number, pin: string[]): Promise<LoadRun> {
  const before = processCounters(target.pid);
  const { done, seconds } = tool === 'wrk' ? await wrkRun(target, ms, concurrency, pin) : await undiciRun(target, ms, concurrency);
  const after = processCounters(target.pid);
  const ticks = after.ticks - before.ticks;
  return {
    perSecond: done / seconds,
    cpuUsPerRequest: done > 0 ? (ticks * 1e6) / TICKS_PER_SECOND / done : Number.NaN,
    systemUsPerRequest: done > 0 ? ((after.systemTicks - before.systemTicks) * 1e6) / TICKS_PER_SECOND / done : Number.NaN,
    faultsPerK: done > 0 ? ((after.faults - before.faults) * 1000) / done : Number.NaN,
  };
}

interface Completed {
  readonly done: number;
  readonly seconds: number;
}

/** wrk's duration is whole seconds: shorter runs last one second. */
async function wrkRun(target: Target, ms: number, concurrency: number, pin: string[]): Promise<Completed> {
  const argv = [...pin, 'wrk', '-t1', `-c${concurrency}`, `-d${Math.max(1, Math.round(ms / 1000))}s`, `http://127.0.0.1:${target.port}${target.path}`];
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const requests = /(\d+) requests in ([\d.]+)(ms|s)/.exec(out);
  if (requests === null) throw new Error(`wrk failed (exit ${code}): ${out}`);
  const bad = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  if (bad !== null) throw new Error(`${bad[1]} requests were answered with a non-2xx status`);
  const seconds = Number(requests[2]) / (requests[3] === 'ms' ? 1000 : 1);
  return { done: Number(requests[1]), seconds };
}

async function undiciRun(target: Target, ms: number, concurrency: number): Promise<Completed> {
  const pool = new Pool(`http://127.0.0.1:${target.port}`, { connections: concurrency });
  const end = performance.now() + ms;
  let done = 0;
  try {
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < end) {
          const res = await pool.request({ path: target.path, method: 'GET' });
          await res.body.arrayBuffer();
          if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
          done++;
        }
      }),
    );
  } finally {
    await pool.close();
  }
  return { done, seconds: ms / 1000 };
}
