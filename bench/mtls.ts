/**
 * `npm run bench:mtls`: mesh.request over mTLS against raw undici.request
 * over TLS with the same certificates, to one https upstream that requires
 * a client certificate; and undici's URL-less `pool.request({ path })` for
 * scale. Closed loop at concurrency 50, 1 KiB responses.
 *
 * Each client runs in fresh processes of its own, `--processes` of each,
 * taking turns (raw, pool, mesh, then pool, mesh, raw, …). Two clients in
 * one process share undici's allocation sites, so V8's pretenuring
 * decision, made from whichever client ran first, weighed on both (see
 * bench/README.md, "Two processes of one client, two speeds"); and one
 * process of a client is one draw of that coin. A side's figure is the
 * median over its processes; the interval resamples processes.
 *
 *   npm run bench:mtls [-- --processes 6 --requests 40000]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { installExitHandlers, killAll, nextMessage, spawnNode } from './lib/children.js';
import { writeBenchCertificates } from './lib/mtls-certs.js';
import { describeNodeFlags } from './lib/node-flags.js';
import type { LoopReading } from './lib/process-loop.js';
import { bootstrap, median } from './lib/report.js';
import { markdownTable, num, ratio, signed } from './lib/table.js';

const { values } = parseArgs({
  options: { processes: { type: 'string', default: '6' }, requests: { type: 'string', default: '40000' } },
});
const PROCESSES = Math.max(1, Number(values.processes));
const REQUESTS = Number(values.requests);
const UPSTREAM = fileURLToPath(new URL('./lib/tls-upstream.ts', import.meta.url));
const CLIENT = fileURLToPath(new URL('./lib/mtls-client.ts', import.meta.url));
const SIDES = ['raw', 'pool', 'mesh'] as const;
type Side = (typeof SIDES)[number];

installExitHandlers(killAll);
const dir = mkdtempSync(join(tmpdir(), 'proxyless-bench-mtls-'));
try {
  const { upstreamArgs, clientDir } = await writeBenchCertificates(dir);

  const upstream = spawnNode(UPSTREAM, upstreamArgs);
  const first = await nextMessage<{ port: number }>(upstream, 30_000);
  if ('gone' in first) throw new Error(`tls upstream did not start: ${first.gone}`);
  const port = String(first.message.port);

  const readings: Record<Side, LoopReading[]> = { raw: [], pool: [], mesh: [] };
  for (let p = 0; p < PROCESSES; p++) {
    // Rotate who goes first, so none always runs on a warmer machine.
    for (let k = 0; k < SIDES.length; k++) {
      const side = SIDES[(p + k) % SIDES.length]!;
      const child = spawnNode(CLIENT, [side, port, clientDir, String(REQUESTS / 2), String(REQUESTS)]);
      const answer = await nextMessage<LoopReading>(child, 300_000);
      if ('gone' in answer) throw new Error(`${side} client failed: ${answer.gone}`);
      readings[side].push(answer.message);
      const r = answer.message;
      process.stderr.write(`process ${p + 1}/${PROCESSES} ${side}: ${num(r.rps)} req/s, ${r.cpuUs.toFixed(1)} µs/req (kernel ${r.systemUs.toFixed(1)}), GC ${r.gcPauseUs.toFixed(2)} µs/req\n`);
    }
  }
  killAll();

  const rps = (side: Side) => readings[side].map((r) => r.rps);
  const cpu = (side: Side) => readings[side].map((r) => r.cpuUs);
  const gc = (side: Side) => readings[side].map((r) => r.gcPauseUs);
  const row = (side: Side, label: string): string[] => {
    const common = [label, num(median(rps(side))), num(median(cpu(side)), 1), num(median(readings[side].map((r) => r.systemUs)), 1), num(median(gc(side)), 2)];
    if (side === 'raw') return [...common, '1.00×', '', '0'];
    const [lo, hi] = bootstrap([rps(side), rps('raw')], ([m, r]) => median(m!) / median(r!));
    const [clo, chi] = bootstrap([cpu(side), cpu('raw')], ([m, r]) => median(m!) - median(r!));
    return [
      ...common,
      ratio(median(rps(side)) / median(rps('raw'))),
      `${ratio(lo)} … ${ratio(hi)}`,
      `${signed(median(cpu(side)) - median(cpu('raw')))} (${signed(clo)} … ${signed(chi)})`,
    ];
  };
  console.log(
    `Node ${process.version}, ${PROCESSES} fresh processes per client, ${REQUESTS.toLocaleString('en-US')} measured requests each after ${(REQUESTS / 2).toLocaleString('en-US')} of warm-up, concurrency 50, 1 KiB responses, mTLS (RSA 2048, TLS 1.3), ${describeNodeFlags()}\n`,
  );
  console.log(
    markdownTable(
      ['client', 'req/s (median)', 'client CPU µs/req', 'of it kernel', 'GC pause µs/req', '× raw', '90% interval', 'added CPU µs (90% interval)'],
      [row('raw', 'raw undici.request(url) over TLS'), row('pool', 'raw pool.request({ path }) over TLS'), row('mesh', 'mesh.request(url), mTLS')],
      ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
    ),
  );
} finally {
  killAll();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
