/**
 * `npm run bench:gc-modes`: the same closed loop (concurrency 50, three
 * replicas, 1 KiB responses) in many fresh processes, raw undici.request
 * and mesh.request, each with V8's defaults and with
 * `--no-allocation-site-pretenuring`. Prints every process's CPU and GC
 * pause per request, then medians.
 *
 * Why: on V8's defaults a process sometimes pretenures request objects
 * early in its life and then spends ~10 times longer in scavenges for the
 * rest of it; which processes do is a coin flip. This bench shows the two
 * modes side by side, so a reader can tell a bench run's spread from a
 * change in the code (bench/README.md, "Two processes of one client").
 *
 *   npm run bench:gc-modes [-- --processes 6 --requests 60000]
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { installExitHandlers, killAll, nextMessage, spawnNode } from './lib/children.js';
import { median } from './lib/report.js';
import { markdownTable, num } from './lib/table.js';

const { values } = parseArgs({
  options: { processes: { type: 'string', default: '6' }, requests: { type: 'string', default: '60000' } },
});
const PROCESSES = Number(values.processes);
const REQUESTS = Number(values.requests);
const UPSTREAM = fileURLToPath(new URL('./lib/upstream.ts', import.meta.url));
const CLIENT = fileURLToPath(new URL('./lib/gc-mode-client.ts', import.meta.url));
const FLAG = '--no-allocation-site-pretenuring';

interface Reading {
  side: string;
  cpuUs: number;
  gcPauseUs: number;
  rps: number;
}

installExitHandlers(killAll);
const ports: number[] = [];
for (let i = 0; i < 3; i++) {
  const child = spawnNode(UPSTREAM, []);
  const first = await nextMessage<{ port: number }>(child, 30_000);
  if ('gone' in first) throw new Error(`replica did not start: ${first.gone}`);
  ports.push(first.message.port);
}

const readings = new Map<string, Reading[]>();
const kinds: Array<[side: 'raw' | 'mesh', flags: string[]]> = [
  ['raw', []],
  ['mesh', []],
  ['raw', [FLAG]],
  ['mesh', [FLAG]],
];
const rows: string[][] = [];
for (let p = 1; p <= PROCESSES; p++) {
  for (const [side, flags] of kinds) {
    const child = spawnNode(CLIENT, [side, ports.join(','), String(REQUESTS / 2), String(REQUESTS)], { nodeFlags: flags });
    const answer = await nextMessage<Reading>(child, 300_000);
    if ('gone' in answer) throw new Error(`${side} client failed: ${answer.gone}`);
    const key = `${side}${flags.length > 0 ? `, ${FLAG}` : ', V8 defaults'}`;
    const list = readings.get(key) ?? [];
    list.push(answer.message);
    readings.set(key, list);
    rows.push([String(p), key, num(answer.message.rps), num(answer.message.cpuUs, 1), num(answer.message.gcPauseUs, 2)]);
    process.stderr.write(`process ${p}/${PROCESSES}: ${key}: ${answer.message.cpuUs.toFixed(1)} µs/req, GC ${answer.message.gcPauseUs.toFixed(2)} µs/req\n`);
  }
}
killAll();

console.log(`Fresh processes, ${REQUESTS.toLocaleString('en-US')} measured requests each (after ${(REQUESTS / 2).toLocaleString('en-US')} of warm-up), concurrency 50, Node ${process.version}\n`);
console.log(markdownTable(['process', 'client', 'req/s', 'CPU µs/req', 'GC pause µs/req'], rows, ['right', 'left', 'right', 'right', 'right']));
console.log('\nMedians over processes (the GC pause column shows which mode each process was in: ~0.5 against ~5 and up):\n');
console.log(
  markdownTable(
    ['client', 'req/s', 'CPU µs/req', 'GC pause µs/req', 'processes with GC pause > 2 µs/req'],
    [...readings].map(([key, list]) => [
      key,
      num(median(list.map((r) => r.rps))),
      num(median(list.map((r) => r.cpuUs)), 1),
      num(median(list.map((r) => r.gcPauseUs)), 2),
      `${list.filter((r) => r.gcPauseUs > 2).length} of ${list.length}`,
    ]),
    ['left', 'right', 'right', 'right', 'right'],
  ),
);
process.exit(0);
