import { afterEach, expect, test, vi } from 'vitest';
import { type Drainable, InboundDrain } from '../../../src/server/drain.js';
import { InboundPipeline } from '../../../src/server/inbound-pipeline.js';
import type { Peer } from '../../../src/server/peer.js';

const drains: InboundDrain[] = [];
afterEach(() => {
  for (const d of drains.splice(0)) d.destroy();
  vi.useRealTimers();
});

const peer: Peer = { spiffeId: undefined, principal: undefined, namespace: undefined, authenticated: false, address: '127.0.0.1' };
const call = { protocol: 'http' as const, method: 'GET', path: '/x', authority: 'api', headers: {}, peer, local: {}, requestBytes: 0 };

/** A server as the drain sees one: closing finishes once its last connection has gone idle and been closed. */
function server(pipeline: InboundPipeline) {
  const log: string[] = [];
  let closed: () => void = () => {};
  const s: Drainable = {
    close: () => {
      log.push('close');
      return new Promise<void>((resolve) => {
        closed = resolve;
      });
    },
    closeIdle: () => {
      log.push('closeIdle');
      if (pipeline.inFlight === 0) closed();
    },
    closeAll: () => {
      log.push('closeAll');
      closed();
    },
  };
  return { s, log };
}

function drainFor(pipeline: InboundPipeline, signals: NodeJS.Signals[] = ['SIGTERM']) {
  const d = new InboundDrain(pipeline, async () => {});
  d.configure(signals);
  drains.push(d);
  return d;
}

test('the signal handler is installed when the first server attaches, and removed by destroy()', () => {
  const before = process.listenerCount('SIGTERM');
  const d = drainFor(new InboundPipeline());
  expect(process.listenerCount('SIGTERM')).toBe(before);
  d.track({}, server(new InboundPipeline()).s);
  expect(process.listenerCount('SIGTERM')).toBe(before + 1);
  d.destroy();
  expect(process.listenerCount('SIGTERM')).toBe(before);
});

test('signals: [] installs no handler at all', () => {
  const before = process.listenerCount('SIGTERM');
  drainFor(new InboundPipeline(), []).track({}, server(new InboundPipeline()).s);
  expect(process.listenerCount('SIGTERM')).toBe(before);
});

test('the drain closes the listener at once, waits for the request in flight, then closes what is left', async () => {
  const pipeline = new InboundPipeline();
  const d = drainFor(pipeline);
  const { s, log } = server(pipeline);
  d.track({}, s);
  const ex = pipeline.begin(call);
  let drained = false;
  const done = d.drain({ timeout: 60_000, delay: 0 }).then(() => {
    drained = true;
  });
  expect(log).toEqual(['close', 'closeIdle']);
  expect(pipeline.draining).toBe(true);
  await new Promise((resolve) => setImmediate(resolve));
  expect(drained).toBe(false);
  ex.finish({ status: 200, responseBytes: 0, completed: true });
  await done;
  // The idle sweep closed the last connection once the request finished.
  expect(log.filter((l) => l === 'closeIdle').length).toBeGreaterThanOrEqual(2);
});

test('past the drain timeout, connections still open are closed even with a request in flight', async () => {
  vi.useFakeTimers();
  const pipeline = new InboundPipeline();
  const d = drainFor(pipeline);
  const { s, log } = server(pipeline);
  d.track({}, s);
  pipeline.begin(call);
  const done = d.drain({ timeout: 5_000, delay: 0 });
  await vi.advanceTimersByTimeAsync(4_900);
  expect(log).not.toContain('closeAll');
  await vi.advanceTimersByTimeAsync(200);
  await done;
  expect(log).toContain('closeAll');
});

test('the delay keeps the listener open (not ready, still serving) before it closes', async () => {
  vi.useFakeTimers();
  const pipeline = new InboundPipeline();
  const d = drainFor(pipeline);
  const { s, log } = server(pipeline);
  d.track({}, s);
  const done = d.drain({ timeout: 5_000, delay: 3_000 });
  await vi.advanceTimersByTimeAsync(2_900);
  expect(log).toEqual([]);
  await vi.advanceTimersByTimeAsync(200);
  await done;
  expect(log.slice(0, 2)).toEqual(['close', 'closeIdle']);
});
