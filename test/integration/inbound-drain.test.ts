/**
 * SIGTERM with requests in flight, for each framework and the mesh's own
 * server: a real child process, 500 requests held in its handlers, SIGTERM,
 * and every one of them must complete (200, `Connection: close`) before the
 * process ends on its own, killed by nothing but the signal it was sent.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { Agent, request } from 'undici';
import { afterEach, expect, test } from 'vitest';

const HELD = 500;
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

function startApp(framework: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/integration/inbound-drain-app.ts', framework, String(HELD)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, MESH_SERVICES: '', MESH_CONFIG_FILE: '' },
  });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr += String(d);
  });
  const lines = createInterface({ input: child.stdout! });
  const waitFor = (prefix: string) =>
    new Promise<string>((resolve, reject) => {
      lines.on('line', (l) => {
        if (l.startsWith(prefix)) resolve(l.slice(prefix.length));
      });
      child.once('exit', () => reject(new Error(`exited before "${prefix}": ${stderr}`)));
    });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, waitFor, exited, stderr: () => stderr };
}

for (const framework of ['express', 'fastify', 'nest', 'node']) {
  test(`${framework}: SIGTERM with ${HELD} requests in flight completes all of them, then the process exits by itself`, async () => {
    const app = startApp(framework);
    const port = Number(await app.waitFor('port '));
    const inflight = app.waitFor('inflight ');
    const agent = new Agent({ connections: HELD + 10, pipelining: 1 });
    const responses = Array.from({ length: HELD }, (_, i) =>
      request(`http://127.0.0.1:${port}/work/${i}`, { dispatcher: agent }).then(async (res) => ({
        status: res.statusCode,
        connection: res.headers.connection,
        body: (await res.body.json()) as { id: string },
      })),
    );
    expect(Number(await inflight)).toBe(HELD);
    app.child.kill('SIGTERM');
    const done = await Promise.all(responses);
    expect(done.filter((r) => r.status === 200)).toHaveLength(HELD);
    // Every response of the drain told its client to close the connection.
    expect(done.filter((r) => r.connection === 'close')).toHaveLength(HELD);
    const exit = await app.exited;
    expect(exit).toEqual({ code: null, signal: 'SIGTERM' });
    expect(app.stderr()).toBe('');
    await agent.close();
  }, 60_000);
}
