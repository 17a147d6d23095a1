/**
 * How much of the machine's CPU went to processes that are not the bench's
 * own (a build or a test suite running beside it), read from Linux's /proc.
 * The bench re-does a run that such a process disturbed, since on a small
 * machine one `tsc` beside it moves req/s by tens of percent.
 *
 * "Foreign" CPU = the machine's user + nice + system time over the run, less
 * the time of the bench's own process tree and of kernel threads (which do
 * the bench's loopback networking too). On a system without /proc every
 * reading is `undefined` and nothing is re-done.
 */
import { readdirSync, readFileSync } from 'node:fs';

interface Snapshot {
  /** All CPU time of the machine, in ticks. */
  total: number;
  /** user + nice + system of the machine, in ticks. */
  busy: number;
  /** utime + stime of the bench's own processes and of kernel threads, in ticks. */
  ours: number;
}

function machineTicks(): { total: number; busy: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    const [, ...fields] = line.trim().split(/\s+/);
    const n = fields.map(Number);
    const total = n.reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0) - (n[8] ?? 0) - (n[9] ?? 0); // guest time is inside user
    return { total, busy: n[0]! + n[1]! + n[2]! };
  } catch {
    return undefined;
  }
}

interface Proc {
  pid: number;
  ppid: number;
  ticks: number;
}

function processes(): Proc[] {
  const list: Proc[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // Fields after the command, which is in parentheses and may hold spaces.
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      list.push({ pid: Number(name), ppid: Number(rest[1]), ticks: Number(rest[11]) + Number(rest[12]) });
    } catch {
      // The process ended while we looked.
    }
  }
  return list;
}

/** Ticks of `root`'s process tree plus kernel threads (children of kthreadd, pid 2). */
function ownTicks(root: number): number {
  const procs = processes();
  const children = new Map<number, Proc[]>();
  for (const p of procs) {
    const list = children.get(p.ppid);
    if (list) list.push(p);
    else children.set(p.ppid, [p]);
  }
  let ticks = 0;
  const seen = new Set<number>();
  const stack = [...procs.filter((p) => p.pid === root || p.pid === 2 || p.ppid === 2)];
  while (stack.length > 0) {
    const p = stack.pop()!;
    if (seen.has(p.pid)) continue;
    seen.add(p.pid);
    ticks += p.ticks;
    stack.push(...(children.get(p.pid) ?? []));
  }
  return ticks;
}

export function snapshot(root = process.pid): Snapshot | undefined {
  const machine = machineTicks();
  if (!machine) return undefined;
  try {
    return { ...machine, ours: ownTicks(root) };
  } catch {
    return undefined;
  }
}

/**
 * Share of the machine's CPU capacity (0..1) that other processes used
 * between two snapshots; undefined when it cannot be told.
 */
export function foreignShare(before: Snapshot | undefined, after: Snapshot | undefined): number | undefined {
  if (!before || !after) return undefined;
  const total = after.total - before.total;
  if (total <= 0) return undefined;
  const foreign = after.busy - before.busy - (after.ours - before.ours);
  return Math.max(0, foreign) / total;
}
