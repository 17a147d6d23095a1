/**
 * Soak: a rolling crash. Under steady load at concurrency 20, replicas are
 * SIGKILLed one after another and replaced by new processes on new ports
 * (the endpoint set changes as discovery would report it). With the default
 * settings no idempotent request may fail, and retries must stay within the
 * budget's bound the whole time.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, test } from 'vitest';
import { createMesh, isMeshError } from '../../src/index.js';

const REPLICA = fileURLToPath(new URL('../helpers/replica-process.mjs', import.meta.url));
const children: ChildProcess[] = [];

async function replica(name: string): Promise<{ child: ChildProcess; endpoint: string }> {
  const child = fork(REPLICA, [name], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  children.push(child);
  const [msg] = (await once(child, 'message')) as [{ port: number }];
  return { child, endpoint: `127.0.0.1:${msg.port}` };
}

afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
});

test('six rolling crashes under load: zero failed requests, retries within the budget', async () => {
  let live = await Promise.all(['r0', 'r1', 'r2'].map(replica));
  const config = () => ({ services: { echo: { endpoints: live.map((r) => r.endpoint) } } });
  const mesh = createMesh({ env: false, config: config() });
  let retries = 0;
  const onRetry = () => {
    retries++;
  };
  subscribe('proxyless:retry', onRetry);
  const failures: string[] = [];
  let sent = 0;
  let stop = false;
  const started = performance.now();
  const workers = Array.from({ length: 20 }, async () => {
    while (!stop) {
      sent++;
      try {
        const res = await mesh.request('http://echo/soak');
        await res.body.text();
      } catch (err) {
        failures.push(isMeshError(err) ? `${err.code}: ${err.message}` : String(err));
      }
    }
  });
  try {
    for (let round = 0; round < 6; round++) {
      await new Promise((r) => setTimeout(r, 1_500));
      const [victim, ...rest] = live;
      victim!.child.kill('SIGKILL');
      const fresh = await replica(`r${round + 3}`);
      live = [...rest, fresh];
      mesh.config.setLayer('options', config(), 'options');
    }
    await new Promise((r) => setTimeout(r, 1_500));
  } finally {
    stop = true;
    await Promise.all(workers);
    unsubscribe('proxyless:retry', onRetry);
    await mesh.close();
  }
  const seconds = (performance.now() - started) / 1000;
  expect(failures).toEqual([]);
  expect(sent).toBeGreaterThan(5_000);
  // Linkerd's bound with the default budget (ratio 0.2, 10 per second, ttl 10 s).
  expect(retries).toBeLessThanOrEqual(0.2 * sent + 10 * (seconds + 10));
});
