/**
 * A retry, a hedge or a delayed first attempt is launched from a response
 * callback (the pooled socket's async context) or from the shared timer
 * wheel (the context of whichever call armed its timer). Each must still
 * dispatch in its caller's context: the application's AsyncLocalStorage
 * stores, and the span other instrumentations parent theirs under, are
 * read there (here: by a subscriber to undici's request-create channel, as
 * OpenTelemetry's undici instrumentation subscribes).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, test } from 'vitest';
import { createMesh, type Mesh } from '../../src/index.js';

const store = new AsyncLocalStorage<string>();
let server: Server | undefined;
let mesh: Mesh | undefined;

afterEach(async () => {
  await mesh?.close();
  await new Promise((r) => server?.close(r));
  mesh = undefined;
  server = undefined;
});

/** A backend that fails the first request of each path with 503 (the next is answered), and makes the hedge case slow. */
async function backend(): Promise<number> {
  const seen = new Set<string>();
  server = createServer((req, res) => {
    const path = req.url ?? '';
    if (path.startsWith('/slow') && !seen.has(path)) {
      seen.add(path);
      // The first try of a hedged path answers late: the hedge, launched from the wheel, wins.
      setTimeout(() => res.end('late'), 200).unref();
      return;
    }
    res.statusCode = seen.has(path) || path.startsWith('/slow') ? 200 : 503;
    seen.add(path);
    res.end();
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return (server!.address() as AddressInfo).port;
}

/** Each dispatch's path and the caller store active when undici created the request. */
function recordDispatches(): { seen: Array<[string, string | undefined]>; stop: () => void } {
  const seen: Array<[string, string | undefined]> = [];
  const onCreate = (m: unknown) => seen.push([(m as { request: { path: string } }).request.path, store.getStore()]);
  subscribe('undici:request:create', onCreate);
  return { seen, stop: () => unsubscribe('undici:request:create', onCreate) };
}

test('a retry dispatches in its own caller context, launched from the timer wheel after its backoff', async () => {
  const port = await backend();
  mesh = createMesh({
    env: false,
    config: {
      services: {
        backend: {
          endpoints: [`127.0.0.1:${port}`],
          loadBalancer: { policy: 'round-robin' },
          retries: { attempts: 2, retryOn: ['5xx'], backoff: { baseInterval: 5, maxInterval: 5 } },
        },
      },
    },
  });
  // The pool's socket opens in a context of its own: a response callback runs in it.
  await store.run('warm-up', async () => (await mesh!.request('http://backend/warm')).body.dump());
  const { seen, stop } = recordDispatches();
  try {
    const call = (name: string) =>
      store.run(name, async () => {
        const res = await mesh!.request(`http://backend/${name}`);
        await res.body.dump();
        return res.statusCode;
      });
    expect(await Promise.all([call('a'), call('b'), call('c')])).toEqual([200, 200, 200]);
  } finally {
    stop();
  }
  // Two dispatches per call (the 503, then the retry), each in its caller's store.
  expect([...seen].sort()).toEqual([
    ['/a', 'a'],
    ['/a', 'a'],
    ['/b', 'b'],
    ['/b', 'b'],
    ['/c', 'c'],
    ['/c', 'c'],
  ]);
});

test('a hedge dispatches in its own caller context, from a wheel another call armed', async () => {
  const port = await backend();
  mesh = createMesh({
    env: false,
    config: {
      services: {
        backend: { endpoints: [`127.0.0.1:${port}`], hedging: { delay: 20, maxRequests: 1 } },
      },
    },
  });
  await store.run('warm-up', async () => (await mesh!.request('http://backend/warm')).body.dump());
  const { seen, stop } = recordDispatches();
  try {
    const call = (name: string) =>
      store.run(name, async () => {
        const res = await mesh!.request(`http://backend/slow-${name}`);
        await res.body.dump();
        return res.statusCode;
      });
    // Both hedges wait on the one wheel timer the first call armed.
    expect(await Promise.all([call('first'), call('second')])).toEqual([200, 200]);
  } finally {
    stop();
  }
  expect([...seen].sort()).toEqual([
    ['/slow-first', 'first'],
    ['/slow-first', 'first'],
    ['/slow-second', 'second'],
    ['/slow-second', 'second'],
  ]);
});
