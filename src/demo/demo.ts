/**
 * `proxyless demo`: three replicas of `echo`, a client on the mesh, how its
 * requests spread, and what happens when a replica dies mid-traffic.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { isMeshError } from '../errors.js';
import { createMesh, type Mesh } from '../mesh.js';
import { CHANNELS } from '../telemetry/events.js';

interface Replica {
  name: string;
  port: number;
  child: ChildProcess;
}

function startReplica(name: string, cliPath: string): Promise<Replica> {
  return new Promise((resolve, reject) => {
    const child = fork(cliPath, ['demo-replica', name], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`replica ${name} exited early (${code})`)));
    child.on('message', (msg: { ready?: boolean; port?: number }) => {
      if (msg.ready && msg.port) resolve({ name, port: msg.port, child });
    });
  });
}

interface Tally {
  byReplica: Map<string, number>;
  failures: Map<string, number>;
}

async function drive(
  mesh: Mesh,
  total: number,
  concurrency: number,
  headers?: Record<string, string>,
  atQuarter?: () => void,
): Promise<Tally> {
  const tally: Tally = { byReplica: new Map(), failures: new Map() };
  let next = 0;
  const worker = async () => {
    while (next < total) {
      const i = next++;
      if (i === Math.floor(total / 4)) atQuarter?.();
      try {
        const res = await mesh.request(`http://echo/hello/${i}`, headers ? { headers } : undefined);
        const { replica } = (await res.body.json()) as { replica: string };
        tally.byReplica.set(replica, (tally.byReplica.get(replica) ?? 0) + 1);
      } catch (err) {
        const code = isMeshError(err) ? err.code : (err as Error).name;
        tally.failures.set(code, (tally.failures.get(code) ?? 0) + 1);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return tally;
}

function print(title: string, tally: Tally, total: number, names: string[]): void {
  console.log(`\n${title}`);
  for (const name of names) {
    const n = tally.byReplica.get(name) ?? 0;
    const bar = '█'.repeat(Math.round((n / total) * 50));
    console.log(`  ${name.padEnd(10)} ${String(n).padStart(5)}  ${bar}`);
  }
  const failed = [...tally.failures.values()].reduce((a, b) => a + b, 0);
  const detail = [...tally.failures].map(([code, n]) => `${code} ×${n}`).join(', ');
  console.log(`  ${'failed'.padEnd(10)} ${String(failed).padStart(5)}  ${detail}`);
}

export async function runDemo(cliPath: string): Promise<void> {
  const names = ['echo-a', 'echo-b', 'echo-c'];
  console.log('proxyless demo: three replicas of service "echo", one client using the mesh.\n');
  const replicas = await Promise.all(names.map((n) => startReplica(n, cliPath)));
  for (const r of replicas) r.child.removeAllListeners('exit');
  const version = (i: number) => (i < 2 ? 'v1' : 'v2');
  const endpoints = replicas.map((r, i) => ({ address: '127.0.0.1', port: r.port, labels: { version: version(i) } }));
  const config = {
    services: {
      echo: {
        endpoints,
        subsets: { v1: { labels: { version: 'v1' } }, v2: { labels: { version: 'v2' } } },
        routes: [
          { name: 'testers', match: [{ headers: { 'x-user': { exact: 'jason' } } }], route: [{ destination: { subset: 'v2' } }] },
          {
            name: 'canary',
            route: [
              { destination: { subset: 'v1' }, weight: 90 },
              { destination: { subset: 'v2' }, weight: 10 },
            ],
          },
        ],
      },
    },
  };
  console.log('config: echo-a and echo-b are version v1, echo-c is v2 (the canary).');
  console.log('routes: x-user: jason → v2; everyone else 90% v1 / 10% v2.');
  console.log('resilience: the defaults (retry connect failures and resets for idempotent');
  console.log('requests within a 20% retry budget; outlier detection on).');

  const events: string[] = [];
  const onEject = (msg: unknown) => {
    const m = msg as { endpoint: string; reason: string };
    events.push(`ejected ${nameOf(replicas, m.endpoint)} (${m.reason})`);
  };
  let retries = 0;
  const onRetry = () => {
    retries++;
  };
  subscribe(CHANNELS.ejection, onEject);
  subscribe(CHANNELS.retry, onRetry);
  const mesh = createMesh({ env: false, config });
  try {
    await mesh.ready();
    const total = 2000;
    print(`1. ${total} requests at concurrency 20 (the 90/10 canary split):`, await drive(mesh, total, 20), total, names);
    print('2. 100 requests as x-user: jason (all to v2):', await drive(mesh, 100, 10, { 'x-user': 'jason' }), 100, names);

    const victim = replicas[1]!;
    console.log(`\n3. ${total} more requests; SIGKILL ${victim.name} after the first 500 (a crash: its connections just die).`);
    const tally = await drive(mesh, total, 20, undefined, () => victim.child.kill('SIGKILL'));
    print('   where they went:', tally, total, names);
    console.log(`   retries: ${retries}; ${events.join('; ') || 'no ejection'}`);
    console.log(
      '\n   Requests caught on the dead replica were reset before any response byte;\n' +
        '   GET is idempotent, so each was retried on another replica within the\n' +
        '   retry budget, and outlier detection ejected the dead one.',
    );
  } finally {
    unsubscribe(CHANNELS.ejection, onEject);
    unsubscribe(CHANNELS.retry, onRetry);
    await mesh.close();
    for (const r of replicas) r.child.kill('SIGKILL');
  }
}

function nameOf(replicas: readonly Replica[], endpoint: string): string {
  return replicas.find((r) => endpoint.endsWith(`:${r.port}`))?.name ?? endpoint;
}
