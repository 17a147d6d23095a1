import { afterEach, expect, test } from 'vitest';
import { Admission } from '../../../src/server/admission.js';
import { acquireLoopDelay } from '../../../src/server/loop-delay.js';

const open: Admission[] = [];
afterEach(() => {
  for (const a of open.splice(0)) a.close();
});

function admission(...args: ConstructorParameters<typeof Admission>): Admission {
  const a = new Admission(...args);
  open.push(a);
  return a;
}

test('the concurrency limit admits up to the limit, and a released slot admits the next', () => {
  const a = admission({ maxConcurrentRequests: 2 });
  expect(a.tryEnter()).toBeUndefined();
  expect(a.tryEnter()).toBeUndefined();
  expect(a.tryEnter()).toBe('concurrency');
  expect(a.inFlight).toBe(2);
  a.release();
  expect(a.tryEnter()).toBeUndefined();
});

test('without limits everything is admitted and counted', () => {
  const a = admission();
  for (let i = 0; i < 100; i++) expect(a.tryEnter()).toBeUndefined();
  expect(a.inFlight).toBe(100);
});

test('the rate limit refuses past its tokens; a refused request takes no slot', () => {
  const a = admission({ rateLimit: { maxTokens: 2, tokensPerFill: 2, fillIntervalMs: 3_600_000 } });
  expect(a.tryEnter()).toBeUndefined();
  expect(a.tryEnter()).toBeUndefined();
  expect(a.tryEnter()).toBe('rate-limit');
  expect(a.inFlight).toBe(2);
});

test('whenIdle resolves once the last request in flight is released', async () => {
  const a = admission();
  a.tryEnter();
  a.tryEnter();
  let idle = false;
  const waiting = a.whenIdle().then(() => {
    idle = true;
  });
  a.release();
  await Promise.resolve();
  expect(idle).toBe(false);
  a.release();
  await waiting;
  expect(idle).toBe(true);
  await a.whenIdle();
});

test('a config update replaces the limits for the next request', () => {
  const a = admission({ maxConcurrentRequests: 1 });
  a.tryEnter();
  expect(a.tryEnter()).toBe('concurrency');
  a.configure({ maxConcurrentRequests: 3 });
  expect(a.tryEnter()).toBeUndefined();
  a.configure({});
  expect(a.tryEnter()).toBeUndefined();
});

test('an event loop blocked past the limit sheds until it recovers', () => {
  const a = admission({ maxEventLoopDelay: 40 });
  expect(a.tryEnter()).toBeUndefined();
  const until = performance.now() + 150;
  while (performance.now() < until) {
    // Block the loop: the sampling timer cannot run, so the stall shows.
  }
  expect(a.tryEnter()).toBe('event-loop');
});

test('the loop monitor is shared: the reading is the same for every holder, and the last release stops it', () => {
  const one = acquireLoopDelay();
  const two = acquireLoopDelay();
  const until = performance.now() + 120;
  while (performance.now() < until) {
    // A stall both holders must see.
  }
  expect(one.delayMs()).toBeGreaterThanOrEqual(60);
  expect(two.delayMs()).toBeGreaterThanOrEqual(60);
  one.release();
  one.release();
  expect(two.delayMs()).toBeGreaterThanOrEqual(60);
  two.release();
});
