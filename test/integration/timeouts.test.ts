/**
 * Time-bound behaviour end to end: per-try and overall timeouts, hedging,
 * a deadline that fires mid-body, a caller that aborts during backoff, and
 * outlier ejection and return on the configured clock (fake timers).
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterEach, expect, test, vi } from 'vitest';
import { createMesh, isMeshError, type Mesh, type MeshConfigInput } from '../../src/index.js';
import { closeServers, startServer, status } from '../helpers/versioned-server.js';

const meshes: Mesh[] = [];
const listeners: Array<[string, (msg: unknown) => void]> = [];

function mesh(config: MeshConfigInput): Mesh {
  const m = createMesh({ env: false, config });
  meshes.push(m);
  return m;
}

function listen(channel: string): unknown[] {
  const seen: unknown[] = [];
  const fn = (msg: unknown) => seen.push(msg);
  subscribe(channel, fn);
  listeners.push([channel, fn]);
  return seen;
}

afterEach(async () => {
  vi.useRealTimers();
  for (const [c, fn] of listeners.splice(0)) unsubscribe(c, fn);
  await Promise.all(meshes.splice(0).map((m) => m.destroy()));
  await closeServers();
});

/** A server that never answers (until closed). */
const hang = () => new Promise<void>(() => {});

async function errorOf(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => undefined,
    (e: unknown) => e,
  );
}

test('a per-try timeout moves the call to another endpoint; with none left it fails typed', async () => {
  const stuck = await startServer('stuck', hang);
  const fine = await startServer('fine');
  const m = mesh({
    services: {
      svc: {
        endpoints: [stuck.endpoint(), fine.endpoint()],
        retries: { attempts: 2, perTryTimeout: '400ms', backoff: { baseInterval: 1 } },
        outlierDetection: { enabled: false },
      },
      only: {
        endpoints: [stuck.endpoint()],
        retries: { attempts: 1, perTryTimeout: '50ms', backoff: { baseInterval: 1 } },
        outlierDetection: { enabled: false },
      },
    },
  });
  for (let i = 0; i < 6; i++) expect(await (await m.request('http://svc/')).body.text()).toBe('fine');
  const err = await errorOf(m.request('http://only/'));
  expect(isMeshError(err) && err.code).toBe('MESH_ATTEMPT_TIMEOUT');
  expect(isMeshError(err) && err.details?.notRetried).toBe('attempts-exhausted');
});

test('an overall timeout fails the call with MESH_DEADLINE_EXCEEDED, also mid-body', async () => {
  const stuck = await startServer('stuck', hang);
  const trickle = await startServer('trickle', async (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('first part');
    await hang();
  });
  const m = mesh({
    services: {
      stuck: { endpoints: [stuck.endpoint()], timeout: '100ms' },
      trickle: { endpoints: [trickle.endpoint()], timeout: '150ms' },
    },
  });
  const err = await errorOf(m.request('http://stuck/'));
  expect(isMeshError(err) && err.code).toBe('MESH_DEADLINE_EXCEEDED');
  expect(isMeshError(err) && err.details?.source).toBe('timeout');

  const res = await m.request('http://trickle/');
  expect(res.statusCode).toBe(200);
  const bodyErr = await errorOf(res.body.text());
  expect(isMeshError(bodyErr) && bodyErr.code).toBe('MESH_DEADLINE_EXCEEDED');
});

test('a hedge races a slow attempt; the first answer wins and the loser is cancelled', async () => {
  let slowClosed = 0;
  const slow = await startServer('slow', async (req) => {
    req.socket.once('close', () => {
      slowClosed++;
    });
    await hang();
  });
  const fast = await startServer('fast');
  const hedges = listen('proxyless:hedge');
  const m = mesh({
    services: {
      svc: {
        endpoints: [slow.endpoint(), fast.endpoint()],
        hedging: { delay: '30ms', maxRequests: 1 },
        loadBalancer: { policy: 'round-robin' },
        outlierDetection: { enabled: false },
      },
    },
  });
  for (let i = 0; i < 6; i++) expect(await (await m.request('http://svc/')).body.text()).toBe('fast');
  // Every first try that reached the slow replica was hedged, and then cancelled.
  expect(slow.seen.length).toBeGreaterThan(0);
  expect(hedges.length).toBe(slow.seen.length);
  await expect.poll(() => slowClosed).toBe(slow.seen.length);
});

test('hedges are never sent for non-idempotent requests', async () => {
  const slow = await startServer('slow', async (_req, res) => {
    await new Promise((r) => setTimeout(r, 100));
    res.end('slow');
  });
  const m = mesh({
    services: { svc: { endpoints: [slow.endpoint()], hedging: { delay: '10ms' }, outlierDetection: { enabled: false } } },
  });
  expect(await (await m.request('http://svc/', { method: 'POST', body: 'x' })).body.text()).toBe('slow');
  expect(slow.seen.length).toBe(1);
});

test('a caller abort during the retry backoff ends the call with the caller’s reason and no further attempt', async () => {
  // Retry-After holds the retry back at least 5 s: the jittered backoff alone can be a few milliseconds,
  // and a second attempt could then land before the poll below sees the first.
  const s = await startServer('s', status(503, { 'retry-after': '5' }));
  const m = mesh({
    services: {
      svc: {
        endpoints: [s.endpoint()],
        retries: { attempts: 3, retryOn: '5xx', backoff: { baseInterval: '10s', maxInterval: '10s' } },
        outlierDetection: { enabled: false },
      },
    },
  });
  const controller = new AbortController();
  const pending = errorOf(m.request('http://svc/', { signal: controller.signal }));
  await expect.poll(() => s.seen.length).toBe(1);
  controller.abort(new Error('caller gave up'));
  const err = (await pending) as Error;
  expect(err.message).toBe('caller gave up');
  expect(s.seen.length).toBe(1);
});

test('outlier detection ejects after consecutive 5xx and returns the endpoint after baseEjectionTime', async () => {
  const bad = await startServer('bad', status(500));
  const good = await startServer('good');
  const ejections = listen('proxyless:ejection') as Array<{ endpoint: string }>;
  const returns = listen('proxyless:ejection-return') as Array<{ endpoint: string }>;
  const m = mesh({
    services: {
      svc: {
        endpoints: [bad.endpoint(), good.endpoint()],
        loadBalancer: { policy: 'round-robin' },
        retries: { attempts: 0 },
        outlierDetection: { consecutive5xxErrors: 3, baseEjectionTime: '30s', interval: '1h', maxEjectionPercent: 50 },
      },
    },
  });
  await m.ready();
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'performance'] });
  const send = async () => {
    const res = await m.request('http://svc/');
    await res.body.dump();
    return res.statusCode;
  };
  while (bad.seen.length < 3) await send();
  expect(ejections.map((e) => e.endpoint)).toEqual([`127.0.0.1:${bad.port}`]);
  await vi.advanceTimersByTimeAsync(0);
  for (let i = 0; i < 10; i++) expect(await send()).toBe(200);
  expect(bad.seen.length).toBe(3);

  await vi.advanceTimersByTimeAsync(29_000);
  expect(returns).toEqual([]);
  await vi.advanceTimersByTimeAsync(1_000);
  expect(returns.map((r) => r.endpoint)).toEqual([`127.0.0.1:${bad.port}`]);
  for (let i = 0; i < 4; i++) await send();
  expect(bad.seen.length).toBeGreaterThan(3);
});
