/**
 * `proxyless demo`: three replicas of `echo`, a client on the mesh, how its
 * requests spread, and what happens when a replica dies mid-traffic.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { isMeshError } from '../errors.js';
import { createMesh, type Mesh } from '../mesh.js';

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

async function drive(mesh: Mesh, total: number, concurrency: number): Promise<Tally> {
  const tally: Tally = { byReplica: new Map(), failures: new Map() };
  let next = 0;
  const worker = async () => {
    while (next < total) {
      const i = next++;
      try {
        const res = await mesh.request(`http://echo/hello/${i}`);
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
  const endpoints = replicas.map((r) => `127.0.0.1:${r.port}`);
  console.log(`config: services.echo.endpoints = ${JSON.stringify(endpoints)}`);
  console.log('policy: peak-ewma (power of two choices on latency × load; the default)');

  const mesh = createMesh({ env: false, config: { services: { echo: { endpoints } } } });
  try {
    await mesh.ready();
    const total = 600;
    print(`1. ${total} requests to http://echo/ at concurrency 10:`, await drive(mesh, total, 10), total, names);

    const victim = replicas[1]!;
    victim.child.kill('SIGKILL');
    await new Promise((r) => victim.child.once('exit', r));
    console.log(`\n2. SIGKILL ${victim.name} (a crash: no goodbye, connections just die).`);
    print(`   the next ${total} requests:`, await drive(mesh, total, 10), total, names);
    console.log(
      '\n   Only requests already sent to the dead replica fail, each with a typed\n' +
        '   error (code, endpoint, retryability). Peak-EWMA charges a failure as a\n' +
        '   10 s response, so every later request goes to the live replicas; the\n' +
        '   dead one is probed again once that penalty has decayed.',
    );
  } finally {
    await mesh.close();
    for (const r of replicas) r.child.kill('SIGKILL');
  }
}
