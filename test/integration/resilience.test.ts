/**
 * Retries, budgets, deadlines, breakers, pool limits, rate limits and
 * outlier detection end to end: real servers (and real processes where a
 * crash matters), real undici, the mesh's defaults unless a test says
 * otherwise.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, test, vi } from 'vitest';
import { builtinClassifier, createMesh, isMeshError, type Mesh, type MeshConfigInput, withDeadline } from '../../src/index.js';
import { closeServers, reset, startServer, status } from '../helpers/versioned-server.js';

const meshes: Mesh[] = [];
const children: ChildProcess[] = [];
const listeners: Array<[string, (msg: unknown) => void]> = [];

function mesh(config: MeshConfigInput, extra: Parameters<typeof createMesh>[0] = {}): Mesh {
  const m = createMesh({ env: false, config, ...extra });
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
  for (const [c, fn] of listeners.splice(0)) unsubscribe(c, fn);
  await Promise.all(meshes.splice(0).map((m) => m.destroy()));
  for (const c of children.splice(0)) c.kill('SIGKILL');
  await closeServers();
});

const REPLICA = fileURLToPath(new URL('../helpers/replica-process.mjs', import.meta.url));

async function replicaProcess(name: string): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(REPLICA, [name], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  children.push(child);
  const [msg] = (await once(child, 'message')) as [{ port: number }];
  return { child, port: msg.port };
}

async function errorOf(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => undefined,
    (e: unknown) => e,
  );
}

test('SIGKILL one of three replicas mid-load: with default settings no request fails, and the dead one is ejected', async () => {
  const replicas = await Promise.all(['a', 'b', 'c'].map((n) => replicaProcess(n)));
  const ejections = listen('proxyless:ejection') as Array<{ endpoint: string }>;
  const m = mesh({ services: { echo: { endpoints: replicas.map((r) => `127.0.0.1:${r.port}`) } } });
  const victim = replicas[1]!;
  const failures: string[] = [];
  const served = new Map<string, number>();
  let next = 0;
  let killed = false;
  await Promise.all(
    Array.from({ length: 20 }, async () => {
      while (next < 2_000) {
        const i = next++;
        if (i === 600 && !killed) {
          killed = true;
          victim.child.kill('SIGKILL');
        }
        try {
          const res = await m.request(`http://echo/item/${i}`);
          const name = await res.body.text();
          served.set(name, (served.get(name) ?? 0) + 1);
        } catch (err) {
          failures.push(isMeshError(err) ? `${err.code}: ${err.message}` : String(err));
        }
      }
    }),
  );
  expect(failures).toEqual([]);
  expect([...served.values()].reduce((a, b) => a + b, 0)).toBe(2_000);
  expect(ejections.map((e) => e.endpoint)).toContain(`127.0.0.1:${victim.port}`);
});

test('against an upstream failing every request, retries stay within the budget, then fail fast', async () => {
  const s = await startServer('down', status(503));
  const m = mesh({
    services: {
      down: {
        endpoints: [s.endpoint()],
        retries: { attempts: 3, retryOn: '5xx', backoff: { baseInterval: 1, maxInterval: 2 } },
        retryBudget: { ratio: 0.2, minRetriesPerSecond: 1, ttl: '10s' },
        outlierDetection: { enabled: false },
      },
    },
  });
  const total = 300;
  const started = performance.now();
  for (let i = 0; i < total; i++) {
    const res = await m.request('http://down/');
    expect(res.statusCode).toBe(503);
    await res.body.dump();
  }
  const seconds = (performance.now() - started) / 1000;
  const retries = s.seen.length - total;
  // Linkerd's bound: ratio × requests + minimum per second × (elapsed + ttl).
  expect(retries).toBeLessThanOrEqual(Math.ceil(0.2 * total + 1 * (seconds + 10)));
  expect(retries).toBeGreaterThan(0);
});

test('a connect-failing upstream exhausts the budget and then fails with MESH_RETRY_BUDGET_EXHAUSTED', async () => {
  const s = await startServer('resetting', reset);
  const m = mesh({
    services: {
      flaky: {
        endpoints: [s.endpoint()],
        retries: { attempts: 2, backoff: { baseInterval: 1, maxInterval: 2 } },
        retryBudget: { ratio: 0.1, minRetriesPerSecond: 1, ttl: '10s' },
        outlierDetection: { enabled: false },
      },
    },
  });
  const codes = new Map<string, number>();
  for (let i = 0; i < 100; i++) {
    const err = await errorOf(m.request('http://flaky/'));
    const code = isMeshError(err) ? err.code : String(err);
    codes.set(code, (codes.get(code) ?? 0) + 1);
  }
  expect(codes.get('MESH_RETRY_BUDGET_EXHAUSTED')).toBeGreaterThan(50);
  expect(s.seen.length - 100).toBeLessThanOrEqual(Math.ceil(0.1 * 100 + 1 * 20));
});

test('a breaker opens on failures, fails fast, half-opens and closes again', async () => {
  const s = await startServer('svc', status(500));
  const transitions = listen('proxyless:circuit') as Array<{ from: string; to: string }>;
  const m = mesh({
    services: {
      svc: {
        endpoints: [s.endpoint()],
        circuitBreaker: { errorThresholdPercentage: 50, minimumRequests: 10, window: '10s', openFor: '200ms', halfOpenRequests: 1 },
        outlierDetection: { enabled: false },
      },
    },
  });
  for (let i = 0; i < 10; i++) await (await m.request('http://svc/')).body.dump();
  const seenBefore = s.seen.length;
  const err = await errorOf(m.request('http://svc/'));
  expect(isMeshError(err) && err.code).toBe('MESH_CIRCUIT_OPEN');
  expect(s.seen.length).toBe(seenBefore);
  s.behave(undefined);
  await expect
    .poll(async () => {
      const r = await m.request('http://svc/').catch(() => undefined);
      if (r === undefined) return 'open';
      await r.body.dump();
      return r.statusCode;
    })
    .toBe(200);
  expect(transitions.map((t) => `${t.from}>${t.to}`)).toEqual(['closed>open', 'open>half-open', 'half-open>closed']);
});

test('a fallback answers for the service while its breaker is open', async () => {
  const s = await startServer('svc', status(500));
  const m = mesh(
    {
      services: {
        svc: {
          endpoints: [s.endpoint()],
          circuitBreaker: { minimumRequests: 2, errorThresholdPercentage: 50, openFor: '1m' },
          outlierDetection: { enabled: false },
        },
      },
    },
    { fallbacks: { svc: (err) => ({ status: 200, body: `fallback: ${err.code}`, flag: 'UO' }) } },
  );
  for (let i = 0; i < 2; i++) await (await m.request('http://svc/')).body.dump();
  const res = await m.request('http://svc/');
  expect(await res.body.text()).toBe('fallback: MESH_CIRCUIT_OPEN');
});

test('connection-pool limits fail fast with MESH_OVERFLOW', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const s = await startServer('slow', async (_req, res) => {
    await gate;
    res.end('ok');
  });
  const m = mesh({ services: { slow: { endpoints: [s.endpoint()], connectionPool: { maxRequests: 2 } } } });
  const held = [m.request('http://slow/'), m.request('http://slow/')];
  const err = await errorOf(m.request('http://slow/'));
  expect(isMeshError(err) && err.code).toBe('MESH_OVERFLOW');
  release();
  for (const r of await Promise.all(held)) expect(await r.body.text()).toBe('ok');
  expect(await (await m.request('http://slow/')).body.text()).toBe('ok');
});

test('a local rate limit refuses calls beyond its tokens with MESH_RATE_LIMITED', async () => {
  const s = await startServer('svc');
  const m = mesh({
    services: { svc: { endpoints: [s.endpoint()], rateLimit: { maxTokens: 5, tokensPerFill: 5, fillInterval: '1h' } } },
  });
  const results: string[] = [];
  for (let i = 0; i < 8; i++) {
    const r = await m.request('http://svc/').then(
      async (res) => String((await res.body.text()) && res.statusCode),
      (e: unknown) => (isMeshError(e) ? e.code : String(e)),
    );
    results.push(r);
  }
  expect(results).toEqual(['200', '200', '200', '200', '200', 'MESH_RATE_LIMITED', 'MESH_RATE_LIMITED', 'MESH_RATE_LIMITED']);
  expect(s.seen.length).toBe(5);
});

test('a non-idempotent POST is not retried unless configured', async () => {
  const s = await startServer('svc', reset);
  const m = mesh({ services: { svc: { endpoints: [s.endpoint()], outlierDetection: { enabled: false } } } });
  const err = await errorOf(m.request('http://svc/', { method: 'POST', body: 'x' }));
  expect(isMeshError(err) && err.code).toBe('MESH_UPSTREAM_RESET');
  expect(isMeshError(err) && err.details?.notRetried).toBe('non-idempotent');
  expect(s.seen.length).toBe(1);

  const keyed = await errorOf(m.request('http://svc/', { method: 'POST', body: 'x', headers: { 'idempotency-key': 'k1' } }));
  expect(isMeshError(keyed) && keyed.details?.notRetried).toBe('attempts-exhausted');
  expect(s.seen.length).toBe(1 + 3);

  const configured = mesh({
    services: { svc: { endpoints: [s.endpoint()], retries: { retryNonIdempotent: true, attempts: 1 }, outlierDetection: { enabled: false } } },
  });
  await errorOf(configured.request('http://svc/', { method: 'POST', body: 'x' }));
  expect(s.seen.length).toBe(4 + 2);
});

test('a retried request resends its body; a body over the replay cap is not retried and says why', async () => {
  const s = await startServer('svc', (req, res, n) => {
    if (n % 2 === 0) req.socket.destroy();
    else res.end('ok');
  });
  const m = mesh({
    mesh: { retryBufferBytes: 1024 },
    services: { svc: { endpoints: [s.endpoint()], outlierDetection: { enabled: false } } },
  });
  async function* stream(size: number) {
    yield Buffer.alloc(size / 2, 'a');
    yield Buffer.alloc(size / 2, 'b');
  }
  const small = await m.request('http://svc/', { method: 'PUT', body: Readable.from(stream(512)) });
  expect(await small.body.text()).toBe('ok');
  expect(s.seen.map((r) => r.body.length)).toEqual([512, 512]);

  const err = await errorOf(m.request('http://svc/', { method: 'PUT', body: Readable.from(stream(4096)) }));
  expect(isMeshError(err) && err.details?.notRetried).toBe('body-over-replay-cap');
  expect((err as Error).message).toContain('replay buffer');
  expect(s.seen.length).toBe(3);
  expect(s.seen[2]!.body.length).toBe(4096);
});

test('a 200 ms inbound deadline caps the nested outbound call, whatever its own timeout', async () => {
  const slow = await startServer('slow', async (_req, res) => {
    await new Promise((r) => setTimeout(r, 2_000));
    res.end('late');
  });
  const m = mesh({ services: { slow: { endpoints: [slow.endpoint()], timeout: '10s' } } });
  // An inbound server whose handler calls out within the caller's deadline.
  const inbound = createServer((req, res) => {
    withDeadline(Number(req.headers['x-mesh-timeout-ms']), async () => {
      const err = await errorOf(m.request('http://slow/'));
      res.end(isMeshError(err) ? `${err.code} ${String(err.details?.source)}` : 'no error');
    });
  });
  inbound.listen(0, '127.0.0.1');
  await once(inbound, 'listening');
  try {
    const port = (inbound.address() as AddressInfo).port;
    const res = await fetch(`http://127.0.0.1:${port}/`, { headers: { 'x-mesh-timeout-ms': '200' } });
    // Had the call waited for the upstream (2 s) it would have answered 'late';
    // its own 10 s timeout would have said 'timeout', not 'inherited'.
    expect(await res.text()).toBe('MESH_DEADLINE_EXCEEDED inherited');
    // The nested call told the next hop how much time was left.
    const budget = Number(slow.seen[0]!.headers['x-mesh-timeout-ms']);
    expect(budget).toBeGreaterThan(0);
    expect(budget).toBeLessThanOrEqual(200);
  } finally {
    inbound.closeAllConnections();
    inbound.close();
  }
});

test('a retry prefers an endpoint the call has not tried yet', async () => {
  const a = await startServer('a', status(503));
  const b = await startServer('b', status(503));
  const m = mesh({
    services: {
      svc: {
        endpoints: [a.endpoint(), b.endpoint()],
        retries: { attempts: 1, retryOn: 'gateway-error', backoff: { baseInterval: 1 } },
        outlierDetection: { enabled: false },
      },
    },
  });
  for (let i = 0; i < 20; i++) await (await m.request('http://svc/')).body.dump();
  // Every request went once to each replica: the retry never repeated its endpoint.
  expect(a.seen.length).toBe(20);
  expect(b.seen.length).toBe(20);
});

async function until(cond: () => boolean): Promise<void> {
  // setImmediate is left real under the fake timers below, so sockets keep moving.
  while (!cond()) await new Promise((r) => setImmediate(r));
}

test('Retry-After delays the retry by what the server asked; too long a wait is not retried', async () => {
  const s = await startServer('svc', (_req, res, n) => {
    if (n === 0) {
      res.writeHead(503, { 'retry-after': '2' });
      res.end();
    } else if (n === 2) {
      res.writeHead(503, { 'retry-after': '3600' });
      res.end();
    } else res.end('ok');
  });
  const m = mesh({
    services: {
      svc: { endpoints: [s.endpoint()], retries: { attempts: 1, retryOn: '5xx' }, outlierDetection: { enabled: false } },
    },
  });
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance', 'Date'] });
  try {
    const pending = m.request('http://svc/');
    await until(() => s.seen.length === 1);
    await vi.advanceTimersByTimeAsync(1_900);
    expect(s.seen.length).toBe(1);
    await vi.advanceTimersByTimeAsync(200);
    await until(() => s.seen.length === 2);
    vi.useRealTimers();
    expect(await (await pending).body.text()).toBe('ok');
  } finally {
    vi.useRealTimers();
  }
  const tooLong = await m.request('http://svc/');
  expect(tooLong.statusCode).toBe(503);
  await tooLong.body.dump();
  expect(s.seen.length).toBe(3);
});

test('a replacement classifier decides what is retried and what the breaker counts', async () => {
  const s = await startServer('svc', (_req, res, n) => {
    res.writeHead(n === 0 ? 409 : 200);
    res.end(n === 0 ? 'conflict' : 'ok');
  });
  const m = mesh(
    { services: { svc: { endpoints: [s.endpoint()], retries: { backoff: { baseInterval: 1 } } } } },
    {
      // Treat 409 as "try again" (say, an optimistic-lock conflict the server resolves).
      classifier: (outcome) =>
        outcome.kind === 'response' && outcome.status === 409
          ? { class: 'retryable', reason: 'other' }
          : builtinClassifier(outcome),
    },
  );
  expect(await (await m.request('http://svc/')).body.text()).toBe('ok');
  expect(s.seen.length).toBe(2);
});

test('maxConnections caps sockets per endpoint and maxPendingRequests caps the queue behind them', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const sockets = new Set<unknown>();
  const s = await startServer('slow', async (req, res) => {
    sockets.add(req.socket);
    await gate;
    res.end('ok');
  });
  const m = mesh({
    services: { slow: { endpoints: [s.endpoint()], connectionPool: { maxConnections: 1, maxPendingRequests: 1 } } },
  });
  const first = m.request('http://slow/');
  await expect.poll(() => s.seen.length).toBe(1);
  const second = m.request('http://slow/');
  const err = await errorOf(m.request('http://slow/'));
  expect(isMeshError(err) && err.code).toBe('MESH_OVERFLOW');
  expect(isMeshError(err) && err.details?.limit).toBe('maxPendingRequests');
  release();
  expect(await (await first).body.text()).toBe('ok');
  expect(await (await second).body.text()).toBe('ok');
  expect(sockets.size).toBe(1);
});

test('maxRequestsPerConnection closes a connection after that many requests; idleTimeout closes one left idle', async () => {
  const sockets = new Set<import('node:net').Socket>();
  const s = await startServer('svc', (req, res) => {
    sockets.add(req.socket);
    res.end('ok');
  });
  const m = mesh({ services: { svc: { endpoints: [s.endpoint()], connectionPool: { maxConnections: 1, maxRequestsPerConnection: 2 } } } });
  for (let i = 0; i < 6; i++) expect(await (await m.request('http://svc/')).body.text()).toBe('ok');
  expect(sockets.size).toBe(3);

  sockets.clear();
  const idle = mesh({ services: { svc: { endpoints: [s.endpoint()], connectionPool: { idleTimeout: '100ms' } } } });
  await (await idle.request('http://svc/')).body.text();
  const [socket] = [...sockets];
  // undici's idle timer ticks at about half a second; without the setting, the server's Keep-Alive hint (5 s) would keep it 3 s.
  await expect.poll(() => socket!.destroyed, { timeout: 2_000, interval: 50 }).toBe(true);
});

test('a status listed in retriableStatusCodes is retried even when the classifier calls it a success (429)', async () => {
  const s = await startServer('svc', (_req, res, n) => {
    res.writeHead(n === 0 ? 429 : 200);
    res.end(n === 0 ? 'slow down' : 'ok');
  });
  const m = mesh({
    services: {
      svc: { endpoints: [s.endpoint()], retries: { attempts: 1, retriableStatusCodes: [429], backoff: { baseInterval: 1 } } },
    },
  });
  const res = await m.request('http://svc/');
  expect(res.statusCode).toBe(200);
  expect(await res.body.text()).toBe('ok');
  expect(s.seen.length).toBe(2);
  // The retried 429 gave back its in-flight slot.
  const upstreams = m.destinations.get('svc')!.upstreams;
  expect(upstreams.every((u) => u.inFlight === 0)).toBe(true);
});
