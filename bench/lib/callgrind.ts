/**
 * Reading callgrind's counts for bench/instructions.ts. Instructions are
 * what the process executed, not how long it took: the same on a quiet
 * machine and a busy one, so two builds or two clients compare to a few
 * tenths of a percent where wall-clock runs on a shared VM spread by ±10%.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

/**
 * V8's garbage collector and optimizing compilers, and the histogram reset
 * of the event-loop delay monitor (a timer's work, which valgrind's
 * slowdown spreads over fewer requests). What is left is the code a request
 * runs: JIT code, V8's builtins, node's C++, llhttp, libuv, OpenSSL, malloc.
 */
const NOT_THE_REQUEST =
  /v8::internal::compiler|v8::internal::maglev|turboshaft|Scaveng|Marking|Sweep|Evacuat|MarkCompact|v8::internal::Heap|MinorMS|RememberedSet|SlotSet|BodyDescriptor|IterateBody|memset|SizeFromMap|HeapObject::|Worklist|RelocIterator|v8::internal::Zone|LiveRange|RegisterAllocat|GraphReducer|PagedSpace|FreeList|MemoryChunk|OnMoveEvent|Compaction|JSHeapBroker|Typer|InstructionSelector|CodeGenerator|Assembler|get_value_from_idx/;

export interface InstructionCount {
  /** Everything the process executed while the counted requests ran, per request. */
  readonly total: number;
  /** The same without GC, the optimizing compilers and timer housekeeping (see NOT_THE_REQUEST). */
  readonly request: number;
}

export function hasCallgrind(): boolean {
  try {
    execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Sends callgrind_control a command for `pid`: `-i on`, `-z` (zero), `-d` (dump). */
export function control(pid: number, ...args: string[]): void {
  execFileSync('callgrind_control', [...args, String(pid)], { stdio: 'ignore' });
}

/** Each function's own (exclusive) instructions in a callgrind dump, as callgrind_annotate names them. */
function selfCounts(file: string): Array<[name: string, instructions: number]> {
  const out = execFileSync('callgrind_annotate', ['--inclusive=no', '--threshold=100', file], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const rows: Array<[string, number]> = [];
  for (const line of out.split('\n')) {
    const m = /^\s*([\d,]+) \(\s*[\d.]+%\)\s+(.*)$/.exec(line);
    if (m === null || line.includes('PROGRAM TOTALS')) continue;
    rows.push([m[2]!, Number(m[1]!.replaceAll(',', ''))]);
  }
  return rows;
}

/** Splits a callgrind dump by function, per request. */
export function countOf(file: string, requests: number): InstructionCount {
  let kept = 0;
  let dropped = 0;
  for (const [name, n] of selfCounts(file)) {
    if (NOT_THE_REQUEST.test(name)) dropped += n;
    else kept += n;
  }
  return { total: (kept + dropped) / requests, request: kept / requests };
}

/**
 * Names JIT code by V8's perf map (`node --perf-basic-prof` writes
 * /tmp/perf-<pid>.map): callgrind only sees addresses there. Entries are
 * appended as code is made, so for an address reused by newer code the
 * last entry covering it wins.
 */
/** V8's tier marks in perf map names (`JS:*f`), so a hot function left in a lower tier shows. */
const TIERS: Record<string, string> = { '~': 'interpreted', '^': 'sparkplug', '+': 'maglev', '*': 'turbofan' };

function jitName(raw: string, cwd: string): string {
  const m = /^JS:([*+^~]?)'?(.*)$/.exec(raw);
  if (m === null) return raw;
  const name = m[2]!.replace(`file://${cwd}/`, '').replace(`${cwd}/`, '');
  const tier = TIERS[m[1]!];
  return tier === undefined ? name : `${name} [${tier}]`;
}

class JitSymbols {
  readonly #starts: number[] = [];
  readonly #ends: number[] = [];
  readonly #names: string[] = [];
  /** The line each entry came from: larger is newer. */
  readonly #ages: number[] = [];
  #largest = 0;

  constructor(perfMap: string) {
    const entries: Array<[number, number, string, number]> = [];
    const lines = readFileSync(perfMap, 'utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      const m = /^([0-9a-f]+) ([0-9a-f]+) (.*)$/.exec(lines[i]!);
      if (m !== null) entries.push([Number.parseInt(m[1]!, 16), Number.parseInt(m[2]!, 16), m[3]!, i]);
    }
    entries.sort((a, b) => a[0] - b[0]);
    const cwd = process.cwd();
    for (const [start, size, name, age] of entries) {
      this.#starts.push(start);
      this.#ends.push(start + size);
      this.#names.push(jitName(name, cwd));
      this.#ages.push(age);
      this.#largest = Math.max(this.#largest, size);
    }
  }

  nameOf(address: number): string | undefined {
    let lo = 0;
    let hi = this.#starts.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.#starts[mid]! <= address) lo = mid + 1;
      else hi = mid - 1;
    }
    // Freed code's addresses are reused, so several entries may cover one: the newest is what ran.
    let best = -1;
    for (let i = hi; i >= 0 && this.#starts[i]! + this.#largest > address; i--) {
      if (address < this.#ends[i]! && (best < 0 || this.#ages[i]! > this.#ages[best]!)) best = i;
    }
    return best < 0 ? undefined : this.#names[best];
  }
}

/**
 * Request instructions per request by function, JIT code named through
 * the perf map; GC and compiler work (NOT_THE_REQUEST) left out.
 */
export function functionsOf(file: string, requests: number, perfMap: string | undefined): Map<string, number> {
  const symbols = perfMap !== undefined && existsSync(perfMap) ? new JitSymbols(perfMap) : undefined;
  const byName = new Map<string, number>();
  for (const [raw, n] of selfCounts(file)) {
    if (NOT_THE_REQUEST.test(raw)) continue;
    const address = /^\?\?\?:(0x[0-9a-f]+)/.exec(raw);
    const name = address !== null ? (symbols?.nameOf(Number(address[1])) ?? 'JIT code (unnamed)') : raw.replace(/^\?\?\?:/, '').replace(/\s*\[.*\]$/, '');
    byName.set(name, (byName.get(name) ?? 0) + n / requests);
  }
  return byName;
}
