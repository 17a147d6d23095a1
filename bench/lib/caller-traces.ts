/**
 * The `traceparent`s a traced caller sends the service benches: 4,096
 * different trace and parent IDs, cycled, as a real caller's differ on
 * every request. One repeated header let the CPU's branch predictor learn
 * the 55 characters the parser walks, and hid what parsing random IDs
 * costs (300 ns a header with a branch per character, against 85 ns for
 * the one header repeated). Seeded, so every run and every side of a
 * comparison sends the same sequence.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const COUNT = 4096;
const HEX = '0123456789abcdef';

/** `count` traceparents with the given flags (`01` sampled, `00` not), the same for a given seed. */
export function callerTraceparents(flags: '00' | '01' = '01', count = COUNT, seed = 0x9e3779b9): string[] {
  let x = seed >>> 0 || 1;
  // xorshift32: deterministic and good enough to defeat a branch predictor.
  const digit = (): string => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return HEX[x & 15]!;
  };
  const id = (n: number): string => {
    let s = '';
    for (let i = 0; i < n; i++) s += digit();
    // All zeros is an invalid ID; at 16^-16 it never happens, but a caller never sends one.
    return /^0+$/.test(s) ? `${s.slice(1)}1` : s;
  };
  return Array.from({ length: count }, () => `00-${id(32)}-${id(16)}-${flags}`);
}

/**
 * A wrk script (`wrk -s <path>`) that sends the same traceparents, one per
 * request in turn. The list is built here and written into the script, so
 * wrk and undici loads send identical headers. The header is set in
 * `wrk.headers` and the request formatted from them, so wrk's own headers
 * (`Host` with its port) stay. The script's directory goes when the
 * process exits.
 */
export function wrkTraceScript(traceparents: readonly string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'proxyless-bench-traces-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'traceparents.lua');
  const list = traceparents.map((t) => `"${t}"`).join(',\n');
  const script = [
    `local traceparents = {\n${list}\n}`,
    'local n = #traceparents',
    'local i = 0',
    'request = function()',
    '  i = i % n + 1',
    '  wrk.headers["traceparent"] = traceparents[i]',
    '  return wrk.format()',
    'end',
    '',
  ];
  writeFileSync(path, script.join('\n'));
  return path;
}
