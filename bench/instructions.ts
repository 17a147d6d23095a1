/**
 * Added CPU per request, counted in instructions rather than timed: each
 * client runs under valgrind's callgrind, which counts every instruction the
 * process executes (JIT code, GC and helper threads included) and gives the
 * same count whatever else the machine is doing. A 2-core VM shared with
 * other work moves the closed-loop bench's CPU column by several µs between
 * identical runs; this count moves by well under 1%.
 *
 * Each row runs twice, with 0 and with N measured requests after the same
 * warm-up, so start-up and warm-up cancel: (count(N) - count(0)) / N is the
 * instructions one warmed request costs. Added instructions over raw undici
 * are turned into µs at the raw client's own rate (its instructions per µs
 * of CPU, from one ordinary run outside valgrind), so the figure is what
 * the mesh's extra work would take at raw undici's speed.
 *
 *   npm run bench:instructions [-- --requests 2000 --warm 1000 --rows raw,mesh,full,quiet]
 *
 * Needs valgrind (Debian's `valgrind`). Slow: valgrind runs code ~50×
 * slower, so expect 1–3 minutes per run, two runs per row.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';

const exec = promisify(execFile);
const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '2000' },
    warm: { type: 'string', default: '1000' },
    rows: { type: 'string', default: 'raw,mesh,full,quiet' },
  },
});
const requests = Number(values.requests);
const warm = values.warm;
const rows = values.rows.split(',');
const client = fileURLToPath(new URL('./lib/counted-client.ts', import.meta.url));

const LABELS: Record<string, string> = {
  raw: 'raw undici.request',
  mesh: 'mesh.request (metrics on, tracing with no provider)',
  full: 'mesh.request, full stack',
  quiet: 'mesh.request, telemetry off',
};

async function count(mode: string, n: number): Promise<number> {
  const { stderr } = await exec(
    'valgrind',
    ['--tool=callgrind', '--smc-check=all-non-file', '--callgrind-out-file=/dev/null', process.execPath, '--import', 'tsx', client, mode, String(n), warm],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  const m = /Collected : (\d+)/.exec(stderr);
  if (m === null) throw new Error(`callgrind printed no count for ${mode} ${n}:\n${stderr.slice(-2000)}`);
  return Number(m[1]);
}

/** µs of CPU one raw request takes outside valgrind (the client prints its own CPU over the measured run). */
async function rawCpuPerRequestUs(): Promise<number> {
  const n = Math.max(requests * 10, 20_000);
  const { stdout } = await exec(process.execPath, ['--import', 'tsx', client, 'raw', String(n), warm], {
    env: { ...process.env, PRINT_CPU: '1' },
  });
  const { cpuUs, count: done } = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as { cpuUs: number; count: number };
  return cpuUs / done;
}

const results: { row: string; perRequest: number }[] = [];
for (const row of rows) {
  process.stderr.write(`${row}: counting ${warm} warm-up + 0 and + ${requests} requests under callgrind…\n`);
  const [base, full] = await Promise.all([count(row, 0), count(row, requests)]);
  results.push({ row, perRequest: (full - base) / requests });
}
const raw = results.find((r) => r.row === 'raw')?.perRequest;
const usPerInstruction = raw === undefined ? undefined : (await rawCpuPerRequestUs()) / raw;
console.log('| row | instructions per request | × raw | added instructions | added µs at raw undici\'s rate |');
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const r of results) {
  const ratio = raw === undefined ? '' : `${(r.perRequest / raw).toFixed(3)}×`;
  const added = raw === undefined ? '' : Math.round(r.perRequest - raw).toLocaleString('en-US');
  const us = raw === undefined || usPerInstruction === undefined ? '' : ((r.perRequest - raw) * usPerInstruction).toFixed(1);
  console.log(`| ${LABELS[r.row] ?? r.row} | ${Math.round(r.perRequest).toLocaleString('en-US')} | ${ratio} | ${added} | ${us} |`);
}
if (usPerInstruction !== undefined) {
  console.log(`\nraw undici.request outside valgrind: ${(usPerInstruction * raw!).toFixed(1)} µs of CPU per request (${(1 / usPerInstruction).toFixed(0)} instructions per µs).`);
}
