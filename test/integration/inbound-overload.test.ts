/**
 * Load shedding on a real Express app: a handler that blocks the event
 * loop, a burst of requests, and the shedder refusing early (503,
 * Retry-After, MESH_OVERLOADED) so the requests it does admit are not
 * queued behind everything else. Then the concurrency limit and the
 * inbound rate limit, exactly.
 */
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Agent, request } from 'undici';
import { afterEach, expect, test } from 'vitest';
import { createMesh, type InboundSettingsInput, type Mesh, meshExpress } from '../../src/index.js';

const meshes: Mesh[] = [];
const closers: (() => void)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) c();
  await Promise.all(meshes.splice(0).map((m) => m.destroy()));
});

function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // The handler holds the event loop, as a CPU-heavy request would.
  }
}

async function serve(inbound: InboundSettingsInput | undefined, handler: express.RequestHandler) {
  const mesh = createMesh({ env: false, config: { mesh: { serviceName: 'api', ...(inbound === undefined ? {} : { inbound }) } } });
  meshes.push(mesh);
  const app = express();
  app.use(meshExpress(mesh));
  app.get('/work', handler);
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  closers.push(() => {
    server.closeAllConnections();
    server.close();
  });
  return { mesh, port: (server.address() as AddressInfo).port };
}

interface Outcome {
  readonly status: number;
  readonly ms: number;
  readonly retryAfter: string | undefined;
  readonly body: string;
}

async function burst(port: number, n: number): Promise<Outcome[]> {
  const agent = new Agent({ connections: n, pipelining: 1 });
  try {
    // Connections first, so the burst arrives at once rather than as the handshakes complete.
    await Promise.all(Array.from({ length: n }, () => request(`http://127.0.0.1:${port}/warm`, { dispatcher: agent }).then((r) => r.body.dump())));
    // Let the loop monitor's window pass over the warm-up, so the burst starts on a quiet reading.
    await new Promise((resolve) => setTimeout(resolve, 300));
    return await Promise.all(
      Array.from({ length: n }, async () => {
        const start = performance.now();
        const res = await request(`http://127.0.0.1:${port}/work`, { dispatcher: agent });
        const body = await res.body.text();
        const retryAfter = res.headers['retry-after'];
        return { status: res.statusCode, ms: performance.now() - start, retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined, body };
      }),
    );
  } finally {
    await agent.close();
  }
}

function p99(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)] ?? 0;
}

test('a handler blocking the event loop: the shedder refuses early and keeps the p99 of admitted requests far below queueing', async () => {
  const N = 150;
  const block: express.RequestHandler = (_req, res) => {
    busy(20);
    res.send('done');
  };
  const queued = await serve(undefined, block);
  const unshed = await burst(queued.port, N);
  expect(unshed.every((o) => o.status === 200)).toBe(true);

  const guarded = await serve({ maxEventLoopDelay: '40ms', retryAfter: '2s' }, block);
  const shed = await burst(guarded.port, N);
  const admitted = shed.filter((o) => o.status === 200);
  const refused = shed.filter((o) => o.status === 503);
  expect(admitted.length + refused.length).toBe(N);
  expect(refused.length).toBeGreaterThan(N / 2);
  expect(admitted.length).toBeGreaterThan(0);
  for (const r of refused) {
    expect(r.retryAfter).toBe('2');
    expect(r.body).toBe('the server is overloaded: its event loop is running late\n');
  }
  // Queueing made the last of the unshed burst wait for all 150 blocks (about 3 s);
  // the shedder answers the rest at once, so the requests it admits wait for few.
  expect(p99(admitted.map((o) => o.ms))).toBeLessThan(p99(unshed.map((o) => o.ms)) / 2);
  const metrics = await guarded.mesh.metricsRegistry!.metrics();
  // At least the burst's refusals (a warm-up request may have been shed too).
  const counted = Number(/proxyless_inbound_shed_total\{reason="event-loop"\} (\d+)/.exec(metrics)?.[1]);
  expect(counted).toBeGreaterThanOrEqual(refused.length);
  expect(metrics).toMatch(/istio_requests_total\{reporter="destination",[^}]*response_flags="OM"[^}]*response_code="503"/);
}, 60_000);

test('the concurrency limit admits exactly that many requests at once; the rest get 503 at once', async () => {
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const { mesh, port } = await serve({ maxConcurrentRequests: 5 }, async (_req, res) => {
    await gate;
    res.send('done');
  });
  const agent = new Agent({ connections: 20 });
  let refusedSoFar = 0;
  let allRefused: () => void = () => {};
  const refusals = new Promise<void>((resolve) => {
    allRefused = resolve;
  });
  const pending = Array.from({ length: 20 }, () =>
    request(`http://127.0.0.1:${port}/work`, { dispatcher: agent }).then(async (r) => {
      const out = { status: r.statusCode, body: await r.body.text() };
      if (out.status === 503 && ++refusedSoFar === 15) allRefused();
      return out;
    }),
  );
  // The 15 refusals all come back while the 5 admitted requests are still held at the gate.
  await refusals;
  release();
  const all = await Promise.all(pending);
  await agent.close();
  expect(all.filter((r) => r.status === 200)).toHaveLength(5);
  const refused = all.filter((r) => r.status === 503);
  expect(refused).toHaveLength(15);
  expect(refused[0]!.body).toBe('the server is at its limit of concurrent requests\n');
  expect(await mesh.metricsRegistry!.metrics()).toContain('proxyless_inbound_shed_total{reason="concurrency"} 15');
});

test('the inbound rate limit answers 429 MESH_RATE_LIMITED past its tokens', async () => {
  const { port } = await serve({ rateLimit: { maxTokens: 3, fillInterval: '1h' } }, (_req, res) => {
    res.send('ok');
  });
  const statuses: number[] = [];
  for (let i = 0; i < 5; i++) {
    const res = await request(`http://127.0.0.1:${port}/work`);
    await res.body.dump();
    statuses.push(res.statusCode);
  }
  expect(statuses).toEqual([200, 200, 200, 429, 429]);
});
