/**
 * Reading callgrind's counts for bench/instructions.ts. Instructions are
 * what the process executed, not how long it took: the same on a quiet
 * machine and a busy one, so two builds or two clients compare to a few
 * tenths of a percent where wall-clock runs on a shared VM spread by ±10%.
 */
import { execFileSync } from 'node:child_process';

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

/** Splits a callgrind dump by function, per request. */
export function countOf(file: string, requests: number): InstructionCount {
  const out = execFileSync('callgrind_annotate', ['--inclusive=no', '--threshold=100', file], { encoding: 'utf8', maxBuffer: 64 << 20 });
  let kept = 0;
  let dropped = 0;
  for (const line of out.split('\n')) {
    const m = /^\s*([\d,]+) \(\s*[\d.]+%\)\s+(.*)$/.exec(line);
    if (m === null || line.includes('PROGRAM TOTALS')) continue;
    const n = Number(m[1]!.replaceAll(',', ''));
    if (NOT_THE_REQUEST.test(m[2]!)) dropped += n;
    else kept += n;
  }
  return { total: (kept + dropped) / requests, request: kept / requests };
}
