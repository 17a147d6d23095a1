/**
 * `BENCH_NODE_FLAGS`: extra Node/V8 flags for every Node process a bench
 * starts (load generators, replicas, servers), and for the bench's own
 * process where it runs a client itself (bench:mtls).
 *
 * Why it exists: at concurrency 50, V8's allocation-site pretenuring can
 * decide, early in a process's life, to allocate some short-lived request
 * objects straight into the old generation. Dead old objects then keep the
 * young objects they point to alive through every scavenge until the next
 * full GC, and a third or more of all allocation survives each scavenge.
 * V8 decides it once per process, and a process in that mode spends 15–40%
 * more CPU on the same requests (raw undici and the mesh alike).
 * `BENCH_NODE_FLAGS=--no-allocation-site-pretenuring` takes the decision
 * out, so two runs of the same code agree; it is applied to both sides of
 * every comparison. See bench/README.md and docs/performance.md.
 */
import { setFlagsFromString } from 'node:v8';

/** The flags, split on whitespace; empty when the variable is unset. */
export function benchNodeFlags(): string[] {
  return (process.env.BENCH_NODE_FLAGS ?? '').split(/\s+/).filter((f) => f !== '');
}

/**
 * Applies the flags to this process, for benches whose client runs here.
 * V8 reads its GC flags when it collects, so setting them now, before the
 * measured work allocates, takes effect.
 */
export function applyBenchNodeFlags(): void {
  for (const flag of benchNodeFlags()) setFlagsFromString(flag);
}

/** A line for a bench's header: which flags the processes ran with. */
export function describeNodeFlags(): string {
  const flags = benchNodeFlags();
  return flags.length === 0 ? 'V8 defaults' : `BENCH_NODE_FLAGS=${flags.join(' ')}`;
}
