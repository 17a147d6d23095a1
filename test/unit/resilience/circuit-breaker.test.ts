import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  CircuitBreaker,
  type CircuitBreakerConfig,
  type CircuitState,
} from '../../../src/resilience/circuit-breaker.js';

afterEach(() => {
  vi.useRealTimers();
});

const CONFIG: CircuitBreakerConfig = {
  errorThresholdPercentage: 50,
  minimumRequests: 10,
  windowMs: 10_000,
  openMs: 5000,
  halfOpenRequests: 1,
};

function setup(overrides: Partial<CircuitBreakerConfig> = {}) {
  const c = { t: 0 };
  const changes: Array<[CircuitState, CircuitState]> = [];
  const breaker = new CircuitBreaker(
    { ...CONFIG, ...overrides },
    { now: () => c.t, onStateChange: (from, to) => changes.push([from, to]) },
  );
  return { c, breaker, changes };
}

/** Admit and settle calls: `failures` failures, then `successes` successes. */
function calls(breaker: CircuitBreaker, failures: number, successes: number): void {
  for (let i = 0; i < failures; i++) {
    expect(breaker.tryAcquire()).toBe(true);
    breaker.onFailure();
  }
  for (let i = 0; i < successes; i++) {
    expect(breaker.tryAcquire()).toBe(true);
    breaker.onSuccess();
  }
}

function trip(breaker: CircuitBreaker): void {
  calls(breaker, 10, 0);
  expect(breaker.state).toBe('open');
}

describe('CircuitBreaker', () => {
  it('starts closed and admits calls', () => {
    const { breaker } = setup();
    expect(breaker.state).toBe('closed');
    expect(breaker.tryAcquire()).toBe(true);
  });

  it('stays closed below minimumRequests, however bad the error rate', () => {
    const { breaker } = setup();
    calls(breaker, 9, 0);
    expect(breaker.state).toBe('closed');
    expect(breaker.windowCounts).toEqual({ requests: 9, failures: 9 });
  });

  it('stays closed below the error threshold', () => {
    const { breaker } = setup();
    calls(breaker, 0, 6);
    calls(breaker, 5, 0);
    // 5 of 11 = 45% < 50%
    expect(breaker.state).toBe('closed');
  });

  it('opens at the threshold once the window holds minimumRequests, and fails fast', () => {
    const { breaker, changes } = setup();
    calls(breaker, 0, 5);
    calls(breaker, 5, 0);
    expect(breaker.state).toBe('open');
    expect(changes).toEqual([['closed', 'open']]);
    expect(breaker.tryAcquire()).toBe(false);
  });

  it('forgets failures that slid out of the window', () => {
    const { c, breaker } = setup();
    calls(breaker, 9, 0);
    c.t = 10_000;
    calls(breaker, 1, 0);
    expect(breaker.state).toBe('closed');
    expect(breaker.windowCounts).toEqual({ requests: 1, failures: 1 });
  });

  it('keeps failures still inside the window', () => {
    const { c, breaker } = setup();
    calls(breaker, 9, 0);
    c.t = 9999;
    calls(breaker, 1, 0);
    expect(breaker.state).toBe('open');
  });

  it('becomes half-open once openMs has passed, without a timer', () => {
    vi.useFakeTimers();
    const { c, breaker, changes } = setup();
    trip(breaker);
    expect(vi.getTimerCount()).toBe(0);
    c.t = 4999;
    expect(breaker.state).toBe('open');
    c.t = 5000;
    expect(breaker.state).toBe('half-open');
    expect(changes).toEqual([
      ['closed', 'open'],
      ['open', 'half-open'],
    ]);
  });

  it('lets halfOpenRequests probes through at a time', () => {
    const { c, breaker } = setup({ halfOpenRequests: 2 });
    trip(breaker);
    c.t = 5000;
    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.tryAcquire()).toBe(false);
  });

  it('closes after halfOpenRequests probe successes, with a fresh window', () => {
    const { c, breaker, changes } = setup({ halfOpenRequests: 2 });
    trip(breaker);
    c.t = 5000;
    expect(breaker.tryAcquire()).toBe(true);
    breaker.onSuccess();
    expect(breaker.state).toBe('half-open');
    expect(breaker.tryAcquire()).toBe(true);
    breaker.onSuccess();
    expect(breaker.state).toBe('closed');
    expect(breaker.windowCounts).toEqual({ requests: 0, failures: 0 });
    expect(changes.at(-1)).toEqual(['half-open', 'closed']);
    // The old failures are gone: one more failure does not reopen it.
    calls(breaker, 1, 0);
    expect(breaker.state).toBe('closed');
  });

  it('reopens for a full openMs when a probe fails', () => {
    const { c, breaker, changes } = setup();
    trip(breaker);
    c.t = 5000;
    expect(breaker.tryAcquire()).toBe(true);
    c.t = 5100;
    breaker.onFailure();
    expect(breaker.state).toBe('open');
    expect(changes.at(-1)).toEqual(['half-open', 'open']);
    c.t = 10_099;
    expect(breaker.tryAcquire()).toBe(false);
    c.t = 10_100;
    expect(breaker.tryAcquire()).toBe(true);
  });

  it('frees a probe slot on release without counting a verdict', () => {
    const { c, breaker } = setup();
    trip(breaker);
    c.t = 5000;
    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.tryAcquire()).toBe(false);
    breaker.release();
    expect(breaker.state).toBe('half-open');
    expect(breaker.tryAcquire()).toBe(true);
    breaker.onSuccess();
    expect(breaker.state).toBe('closed');
  });

  it('release in the closed state counts nothing', () => {
    const { breaker } = setup();
    expect(breaker.tryAcquire()).toBe(true);
    breaker.release();
    expect(breaker.windowCounts).toEqual({ requests: 0, failures: 0 });
  });

  it('ignores outcomes of calls that straggle in while open', () => {
    const { c, breaker } = setup();
    trip(breaker);
    breaker.onSuccess();
    breaker.onFailure();
    expect(breaker.state).toBe('open');
    c.t = 5000;
    expect(breaker.state).toBe('half-open');
  });

  it('does not extend the open period for a straggler failure', () => {
    const { c, breaker } = setup();
    trip(breaker);
    c.t = 4000;
    breaker.onFailure();
    c.t = 5000;
    expect(breaker.state).toBe('half-open');
  });

  it('applies new thresholds from the next outcome, keeping its state', () => {
    const { breaker } = setup();
    calls(breaker, 4, 0);
    breaker.configure({ ...CONFIG, minimumRequests: 5 });
    expect(breaker.state).toBe('closed');
    calls(breaker, 1, 0);
    expect(breaker.state).toBe('open');
    breaker.configure({ ...CONFIG, openMs: 60_000 });
    expect(breaker.state).toBe('open');
  });

  it('starts an empty window when the window length changes', () => {
    const { breaker } = setup();
    calls(breaker, 9, 0);
    breaker.configure({ ...CONFIG, windowMs: 20_000 });
    expect(breaker.windowCounts).toEqual({ requests: 0, failures: 0 });
    calls(breaker, 1, 0);
    expect(breaker.state).toBe('closed');
  });

  it('reads performance.now by default, so fake timers drive it', () => {
    vi.useFakeTimers();
    const breaker = new CircuitBreaker(CONFIG);
    trip(breaker);
    vi.advanceTimersByTime(5000);
    expect(breaker.state).toBe('half-open');
  });
});
