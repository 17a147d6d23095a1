/** Subscription bookkeeping: gRPC A27's does-not-exist timer (fake time) and full-state deletion. */
import { afterEach, beforeEach, expect, test, vi } from 'vitest';
import { RESOURCE_TIMEOUT_MS, TypeState } from '../../../../src/discovery/xds/type-state.js';

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

test('a resource not delivered within 15 s of being requested is absent', () => {
  const absent: string[] = [];
  const s = new TypeState<number>('cluster', 'url', true, RESOURCE_TIMEOUT_MS, (_kind, name) => absent.push(name));
  s.subscribe(['a', 'b']);
  s.armTimers();
  vi.advanceTimersByTime(10_000);
  s.commit(s.candidate(new Map([['a', 1], ['b', 2]])), '1');
  s.commit(s.candidate(new Map([['a', 1]])), '2');
  // Full state: b was received before and is missing now, so it is deleted at once.
  expect([...s.absent]).toEqual(['b']);
  expect(s.pendingTimers).toBe(0);

  s.subscribe(['a', 'b', 'c']);
  s.armTimers();
  // A response without c (it answered the older subscription) does not delete c: c was never received.
  s.commit(s.candidate(new Map([['a', 1]])), '3');
  expect(s.absent.has('c')).toBe(false);
  vi.advanceTimersByTime(RESOURCE_TIMEOUT_MS - 1);
  expect(absent).toEqual([]);
  vi.advanceTimersByTime(1);
  expect(absent).toEqual(['c']);
  expect(s.absent.has('c')).toBe(true);
});

test('timers stop with the stream and restart with the next; delivered resources clear them', () => {
  const absent: string[] = [];
  const s = new TypeState<number>('endpoints', 'url', false, RESOURCE_TIMEOUT_MS, (_kind, name) => absent.push(name));
  s.subscribe(['x', 'y']);
  s.armTimers();
  vi.advanceTimersByTime(14_000);
  s.stopTimers();
  s.armTimers();
  vi.advanceTimersByTime(14_000);
  expect(absent).toEqual([]);
  // Partial state (EDS): x arrives, y stays pending without being deleted.
  s.commit(s.candidate(new Map([['x', 1]])), '1');
  expect(s.absent.size).toBe(0);
  vi.advanceTimersByTime(1_000);
  expect(absent).toEqual(['y']);
  // Unsubscribing forgets the resource and its state.
  s.subscribe(['y']);
  expect(s.resources.has('x')).toBe(false);
  expect(s.pendingTimers).toBe(0);
});
