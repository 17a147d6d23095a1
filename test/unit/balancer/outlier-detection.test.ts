/**
 * Outlier detection with Envoy's numbers: consecutive-error ejection, the
 * max-ejection-percent rule, ejection times and their decay, the interval's
 * success-rate and failure-percentage tests, timers and the config block.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  DEFAULT_OUTLIER,
  type EjectionReason,
  type OutlierConfig,
  OutlierDetector,
  type OutlierResult,
  type OutlierState,
} from '../../../src/balancer/outlier-detection.js';
import { formatPath } from '../../../src/config/config-error.js';
import { outlierDetectionSchema, resolveOutlierConfig } from '../../../src/config/outlier-schema.js';

const keys = (n: number): string[] => Array.from({ length: n }, (_, i) => `10.0.0.${i + 1}:80`);

interface Harness {
  readonly detector: OutlierDetector;
  readonly states: ReadonlyMap<string, OutlierState>;
  readonly onChange: ReturnType<typeof vi.fn>;
  readonly ejections: Array<{ key: string; reason: EjectionReason; untilMs: number }>;
  readonly returns: string[];
  /** The state of the i-th key. */
  at(i: number): OutlierState;
  record(i: number, result: OutlierResult, times?: number): void;
}

function harness(config: Partial<OutlierConfig>, count = 10): Harness {
  const onChange = vi.fn();
  const ejections: Harness['ejections'] = [];
  const returns: string[] = [];
  const detector = new OutlierDetector(
    { ...DEFAULT_OUTLIER, ...config },
    {
      onChange,
      onEject: (key, reason, untilMs) => ejections.push({ key, reason, untilMs }),
      onReturn: (key) => returns.push(key),
    },
  );
  const names = keys(count);
  const states = detector.track(names);
  const at = (i: number): OutlierState => states.get(names[i]!)!;
  return {
    detector,
    states,
    onChange,
    ejections,
    returns,
    at,
    record(i, result, times = 1) {
      for (let n = 0; n < times; n++) detector.record(at(i), result);
    },
  };
}

/** Lets the microtask that reports an inline ejection run. */
const settle = (): Promise<void> => Promise.resolve();

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('consecutive errors', () => {
  it('ejects at the fifth consecutive 5xx and not at the fourth', () => {
    const h = harness({});
    const t0 = performance.now();
    h.record(0, 'http-5xx', 4);
    expect(h.at(0).ejected).toBe(false);
    h.record(0, 'http-5xx');
    expect(h.at(0).ejected).toBe(true);
    expect(h.detector.ejectedCount).toBe(1);
    expect(h.ejections).toEqual([{ key: '10.0.0.1:80', reason: 'consecutive-5xx', untilMs: t0 + 30_000 }]);
    h.detector.close();
  });

  it('a success resets the run', () => {
    const h = harness({});
    h.record(0, 'http-5xx', 4);
    h.record(0, 'success');
    h.record(0, 'http-5xx', 4);
    expect(h.at(0).ejected).toBe(false);
    h.record(0, 'http-5xx');
    expect(h.at(0).ejected).toBe(true);
    h.detector.close();
  });

  it('counts local failures toward both runs, and a plain 5xx breaks a gateway run', () => {
    const h = harness({ consecutive5xxErrors: 0, consecutiveGatewayErrors: 3 });
    h.record(0, 'gateway', 2);
    h.record(0, 'http-5xx');
    h.record(0, 'local-failure', 2);
    expect(h.at(0).ejected).toBe(false);
    h.record(0, 'gateway');
    expect(h.ejections.map((e) => e.reason)).toEqual(['consecutive-gateway']);

    const h5 = harness({ consecutive5xxErrors: 3, consecutiveGatewayErrors: 0 });
    h5.record(0, 'local-failure');
    h5.record(0, 'gateway');
    h5.record(0, 'http-5xx');
    expect(h5.ejections.map((e) => e.reason)).toEqual(['consecutive-5xx']);
    h.detector.close();
    h5.detector.close();
  });

  it('never ejects on a run when both thresholds are 0', () => {
    const h = harness({ consecutive5xxErrors: 0, consecutiveGatewayErrors: 0 });
    h.record(0, 'local-failure', 1000);
    expect(h.at(0).ejected).toBe(false);
    h.detector.close();
  });
});

describe('maxEjectionPercent (Envoy >= 1.31: the new ejection must fit)', () => {
  it('ejects nothing from 3 endpoints at 10%', () => {
    const h = harness({ maxEjectionPercent: 10, alwaysEjectOneHost: false }, 3);
    h.record(0, 'http-5xx', 5);
    expect(h.detector.ejectedCount).toBe(0);
    h.detector.close();
  });

  it('with alwaysEjectOneHost, ejects one of 3 at 10% and not a second', () => {
    const h = harness({ maxEjectionPercent: 10, alwaysEjectOneHost: true }, 3);
    h.record(0, 'http-5xx', 5);
    h.record(1, 'http-5xx', 5);
    expect([h.at(0).ejected, h.at(1).ejected]).toEqual([true, false]);
    expect(h.detector.ejectedCount).toBe(1);
    h.detector.close();
  });

  it('ejects one of 10 at 10%, and the next failing endpoint once the first is back', () => {
    const h = harness({ maxEjectionPercent: 10 }, 10);
    h.record(0, 'http-5xx', 5);
    h.record(1, 'http-5xx', 5);
    expect([h.at(0).ejected, h.at(1).ejected]).toEqual([true, false]);
    vi.advanceTimersByTime(30_000);
    expect(h.at(0).ejected).toBe(false);
    // The refused run was reset, as in Envoy: it takes a fresh one.
    h.record(1, 'http-5xx', 4);
    expect(h.at(1).ejected).toBe(false);
    h.record(1, 'http-5xx');
    expect(h.at(1).ejected).toBe(true);
    h.detector.close();
  });

  it('ejects one of 3 at 34% but not two', () => {
    const h = harness({ maxEjectionPercent: 34 }, 3);
    h.record(0, 'http-5xx', 5);
    h.record(1, 'http-5xx', 5);
    expect(h.detector.ejectedCount).toBe(1);
    h.detector.close();
  });
});

describe('ejection time', () => {
  it('returns at exactly base × 1, then base × 2 on re-ejection', () => {
    const h = harness({});
    h.record(0, 'http-5xx', 5);
    vi.advanceTimersByTime(29_999);
    expect(h.at(0).ejected).toBe(true);
    vi.advanceTimersByTime(1);
    expect(h.at(0).ejected).toBe(false);
    expect(h.returns).toEqual(['10.0.0.1:80']);
    expect(h.detector.ejectedCount).toBe(0);

    h.record(0, 'http-5xx', 5);
    expect(h.ejections[1]?.untilMs).toBe(performance.now() + 60_000);
    vi.advanceTimersByTime(59_999);
    expect(h.at(0).ejected).toBe(true);
    vi.advanceTimersByTime(1);
    expect(h.at(0).ejected).toBe(false);
    h.detector.close();
  });

  it('resets both runs on return', () => {
    const h = harness({ consecutive5xxErrors: 3, consecutiveGatewayErrors: 5 });
    // Three gateway errors eject on the 5xx run and leave the gateway run at 3.
    h.record(0, 'gateway', 3);
    expect(h.ejections.map((e) => e.reason)).toEqual(['consecutive-5xx']);
    vi.advanceTimersByTime(30_000);
    h.record(0, 'gateway', 2);
    expect(h.at(0).ejected).toBe(false);
    h.detector.close();
  });

  it('decays the multiplier by one per whole interval back in service, never while ejected', () => {
    const h = harness({});
    const s = h.at(0);
    h.record(0, 'http-5xx', 5); // t=0, multiplier 1, back at 30 s
    vi.advanceTimersByTime(30_000);
    h.record(0, 'http-5xx', 5); // t=30 s, multiplier 2, back at 90 s
    expect(s.timesEjected).toBe(2);
    vi.advanceTimersByTime(60_000); // sweeps at 40..90 s see it ejected or just back
    expect(s.ejected).toBe(false);
    expect(s.timesEjected).toBe(2);
    vi.advanceTimersByTime(10_000); // sweep at 100 s: a whole interval since 90 s
    expect(s.timesEjected).toBe(1);
    vi.advanceTimersByTime(10_000);
    expect(s.timesEjected).toBe(0);
    vi.advanceTimersByTime(10_000);
    expect(s.timesEjected).toBe(0);

    const before = performance.now();
    h.record(0, 'http-5xx', 5);
    expect(h.ejections[2]?.untilMs).toBe(before + 30_000);
    h.detector.close();
  });

  it('one clean interval only takes one step off', () => {
    const h = harness({});
    h.record(0, 'http-5xx', 5);
    vi.advanceTimersByTime(30_000);
    h.record(0, 'http-5xx', 5); // multiplier 2, back at 90 s
    vi.advanceTimersByTime(70_000); // sweep at 100 s: multiplier 1
    const now = performance.now();
    h.record(0, 'http-5xx', 5); // multiplier 2 again: 60 s
    expect(h.ejections[2]?.untilMs).toBe(now + 60_000);
    h.detector.close();
  });

  it('caps the ejection time at maxEjectionTimeMs', () => {
    const h = harness({ baseEjectionTimeMs: 10_000, maxEjectionTimeMs: 25_000, intervalMs: 3_600_000 });
    const durations: number[] = [];
    for (let i = 0; i < 5; i++) {
      const now = performance.now();
      h.record(0, 'http-5xx', 5);
      const until = h.ejections[i]!.untilMs;
      durations.push(until - now);
      vi.advanceTimersByTime(until - now);
    }
    expect(durations).toEqual([10_000, 20_000, 25_000, 25_000, 25_000]);
    // Envoy stops one step past the cap, so decay starts paying off soon.
    expect(h.at(0).timesEjected).toBe(4);
    h.detector.close();
  });
});

/** Records `ok` successes and `failed` failures, spread evenly through the interval. */
function traffic(h: Harness, i: number, ok: number, failed: number): void {
  const total = ok + failed;
  for (let n = 0; n < total; n++) {
    const fails = Math.floor(((n + 1) * failed) / total) > Math.floor((n * failed) / total);
    h.record(i, fails ? 'http-5xx' : 'success');
  }
}

/**
 * 200 requests on each of 10 hosts at 100, 99.5, 99, 100, 99.5, 98.5, 100,
 * 99, 99.5 and 90 percent: mean 98.5, stdev 2.87, so at factor 1.9 the
 * threshold is 93.04 and only the last host is below it.
 */
function tenHostsOneBad(h: Harness): void {
  const successes = [200, 199, 198, 200, 199, 197, 200, 198, 199, 180];
  for (let i = 0; i < successes.length; i++) traffic(h, i, successes[i]!, 200 - successes[i]!);
}

/** The statistical tests alone, without consecutive-error ejection getting there first. */
const statsOnly = { consecutive5xxErrors: 0, consecutiveGatewayErrors: 0 };

describe('success rate', () => {
  const rule = { minimumHosts: 5, requestVolume: 100, stdevFactor: 1900 };

  it('ejects the host below mean − 1.9 stdev over 10 hosts at 200 requests', () => {
    const h = harness({ ...statsOnly, successRate: rule });
    tenHostsOneBad(h);
    expect(h.detector.ejectedCount).toBe(0);
    vi.advanceTimersByTime(10_000);
    expect(h.ejections.map((e) => [e.key, e.reason])).toEqual([['10.0.0.10:80', 'success-rate']]);
    expect(h.onChange).toHaveBeenCalledTimes(1);
    h.detector.close();
  });

  it("matches Envoy's worked example: 50, 100, 100, 100, 100 gives threshold 52", () => {
    const h = harness({ ...statsOnly, successRate: rule, maxEjectionPercent: 20 }, 5);
    traffic(h, 0, 50, 50);
    for (let i = 1; i < 5; i++) traffic(h, i, 100, 0);
    vi.advanceTimersByTime(10_000);
    expect(h.ejections.map((e) => e.key)).toEqual(['10.0.0.1:80']);
    h.detector.close();
  });

  it('does nothing when fewer than minimumHosts reach the request volume', () => {
    const h = harness({ ...statsOnly, successRate: rule, maxEjectionPercent: 20 }, 5);
    traffic(h, 0, 50, 50);
    for (let i = 1; i < 4; i++) traffic(h, i, 100, 0);
    traffic(h, 4, 99, 0);
    vi.advanceTimersByTime(10_000);
    expect(h.detector.ejectedCount).toBe(0);
    expect(h.onChange).not.toHaveBeenCalled();
    h.detector.close();
  });

  it('counts each interval on its own', () => {
    const h = harness({ ...statsOnly, successRate: rule, maxEjectionPercent: 20 }, 5);
    for (let round = 0; round < 2; round++) {
      traffic(h, 0, 25, 25);
      for (let i = 1; i < 5; i++) traffic(h, i, 50, 0);
      vi.advanceTimersByTime(10_000);
    }
    expect(h.detector.ejectedCount).toBe(0);
    h.detector.close();
  });
});

describe('failure percentage', () => {
  it('ejects hosts failing the threshold share or more, among those with enough requests', () => {
    const h = harness(
      { ...statsOnly, failurePercentage: { threshold: 85, minimumHosts: 5, requestVolume: 50 }, maxEjectionPercent: 50 },
      6,
    );
    traffic(h, 0, 5, 45); // 90% failed
    traffic(h, 1, 8, 42); // 84%
    traffic(h, 2, 15, 85); // exactly 85%
    traffic(h, 3, 50, 0);
    traffic(h, 4, 60, 0);
    traffic(h, 5, 0, 49); // all failed, but below the volume
    vi.advanceTimersByTime(10_000);
    expect(h.ejections.map((e) => [e.key, e.reason])).toEqual([
      ['10.0.0.1:80', 'failure-percentage'],
      ['10.0.0.3:80', 'failure-percentage'],
    ]);
    h.detector.close();
  });

  it('needs minimumHosts qualifying hosts', () => {
    const h = harness(
      { ...statsOnly, failurePercentage: { threshold: 85, minimumHosts: 5, requestVolume: 50 }, maxEjectionPercent: 50 },
      6,
    );
    traffic(h, 0, 5, 45);
    for (let i = 1; i < 4; i++) traffic(h, i, 50, 0);
    vi.advanceTimersByTime(10_000);
    expect(h.detector.ejectedCount).toBe(0);
    h.detector.close();
  });
});

describe('hooks and timers', () => {
  it('reports an inline ejection after record() returns, once per turn', async () => {
    const h = harness({ maxEjectionPercent: 50 });
    h.record(0, 'http-5xx', 5);
    h.record(1, 'http-5xx', 5);
    expect(h.detector.ejectedCount).toBe(2);
    expect(h.onChange).not.toHaveBeenCalled();
    await settle();
    expect(h.onChange).toHaveBeenCalledTimes(1);
    // Both are due at 30 s, with the interval's sweep: one sweep returns both, one call.
    vi.advanceTimersByTime(30_000);
    expect(h.onChange).toHaveBeenCalledTimes(2);
    expect(h.returns).toEqual(['10.0.0.1:80', '10.0.0.2:80']);
    h.detector.close();
  });

  it('runs the interval only while keys are tracked', () => {
    const d = new OutlierDetector(DEFAULT_OUTLIER, { onChange: () => {} });
    expect(vi.getTimerCount()).toBe(0);
    d.track(['a', 'b']);
    expect(vi.getTimerCount()).toBe(1);
    d.track([]);
    expect(vi.getTimerCount()).toBe(0);
    d.close();
  });

  it('close() clears the interval and return timers, and later results do nothing', async () => {
    const h = harness({});
    h.record(0, 'http-5xx', 5);
    expect(vi.getTimerCount()).toBe(2);
    h.detector.close();
    expect(vi.getTimerCount()).toBe(0);
    expect(h.at(0).ejected).toBe(false);
    h.record(1, 'http-5xx', 10);
    expect(h.at(1).ejected).toBe(false);
    await settle();
    expect(h.onChange).not.toHaveBeenCalled();
  });

  it('restarts the interval with a new period on configure()', () => {
    const successRate = { minimumHosts: 5, requestVolume: 100, stdevFactor: 1900 };
    const h = harness({ ...statsOnly, successRate });
    vi.advanceTimersByTime(5_000);
    h.detector.configure({ ...DEFAULT_OUTLIER, ...statsOnly, intervalMs: 2_000, successRate });
    expect(vi.getTimerCount()).toBe(1);
    tenHostsOneBad(h);
    // The old 10 s period would sweep at 10 s; the new one sweeps at 7 s.
    vi.advanceTimersByTime(2_000);
    expect(h.detector.ejectedCount).toBe(1);
    h.detector.close();
  });
});

describe('track()', () => {
  it('keeps state for keys that stay and drops keys that left, with their return timers', () => {
    const h = harness({ maxEjectionPercent: 50 }, 4);
    const [a, b] = [h.at(0), h.at(1)];
    h.record(0, 'http-5xx', 5);
    h.record(1, 'http-5xx', 3);
    expect(vi.getTimerCount()).toBe(2);
    const next = h.detector.track(['10.0.0.2:80', '10.0.0.3:80', '10.0.0.9:80']);
    expect(next.get('10.0.0.2:80')).toBe(b);
    expect(b.consecutive5xx).toBe(3);
    expect(h.detector.state('10.0.0.1:80')).toBeUndefined();
    expect(h.detector.ejectedCount).toBe(0);
    expect(vi.getTimerCount()).toBe(1);

    // A result for the removed endpoint (an attempt still in flight) is ignored.
    const requests = a.requests;
    h.detector.record(a, 'http-5xx');
    h.detector.record(a, 'success');
    expect(a.requests).toBe(requests);
    vi.advanceTimersByTime(60_000);
    expect(h.returns).toEqual([]);

    const again = h.detector.track(['10.0.0.1:80', '10.0.0.2:80']);
    expect(again.get('10.0.0.1:80')).not.toBe(a);
    expect(again.get('10.0.0.1:80')?.ejected).toBe(false);
    h.detector.close();
  });
});

describe('outlierDetection config', () => {
  const issues = (raw: unknown) => {
    const result = outlierDetectionSchema.safeParse(raw);
    return result.success ? [] : result.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message }));
  };

  it('takes Istio field names and durations', () => {
    const parsed = outlierDetectionSchema.parse({
      consecutive5xxErrors: 3,
      interval: '5s',
      baseEjectionTime: '1m',
      maxEjectionPercent: 50,
      failurePercentage: { threshold: 90 },
    });
    expect(parsed).toEqual({
      consecutive5xxErrors: 3,
      interval: 5000,
      baseEjectionTime: 60_000,
      maxEjectionPercent: 50,
      failurePercentage: { threshold: 90 },
    });
  });

  it('rejects bad values at their path', () => {
    expect(issues({ maxEjectionPercent: 120 })).toEqual([
      { path: 'maxEjectionPercent', message: 'must be a percentage from 0 to 100, got 120' },
    ]);
    expect(issues({ failurePercentage: { threshold: -1 } })).toEqual([
      { path: 'failurePercentage.threshold', message: 'must be a percentage from 0 to 100, got -1' },
    ]);
    expect(issues({ successRate: { stdevFactor: 1.9 } })).toEqual([
      {
        path: 'successRate.stdevFactor',
        message: 'is in thousandths of a standard deviation, as in Envoy: write 1900 for 1.9, got 1.9',
      },
    ]);
    expect(issues({ interval: 0 })).toEqual([{ path: 'interval', message: 'must be longer than 0' }]);
    expect(issues({ baseEjectionTime: '1m', maxEjectionTime: '30s' })).toEqual([
      { path: 'maxEjectionTime', message: 'must not be shorter than baseEjectionTime (60000ms), got 30000ms' },
    ]);
    expect(issues({ consecutive5xxErrors: -1 })).toEqual([
      { path: 'consecutive5xxErrors', message: 'must be a whole number, 0 or more, got -1' },
    ]);
    expect(issues({ successRate: { requestVolume: 2.5 } })).toEqual([
      { path: 'successRate.requestVolume', message: 'must be a whole number, 0 or more, got 2.5' },
    ]);
    const unknown = outlierDetectionSchema.safeParse({ successRate: { minHosts: 3 } });
    expect(unknown.error?.issues).toMatchObject([{ code: 'unrecognized_keys', path: ['successRate'], keys: ['minHosts'] }]);
  });

  it('resolves to the defaults when nothing is written', () => {
    expect(resolveOutlierConfig([])).toEqual(DEFAULT_OUTLIER);
    expect(resolveOutlierConfig([undefined, undefined])).toEqual(DEFAULT_OUTLIER);
  });

  it('lets the service override the mesh field by field', () => {
    const mesh = outlierDetectionSchema.parse({ consecutive5xxErrors: 3, interval: '5s' });
    const service = outlierDetectionSchema.parse({ consecutive5xxErrors: 7, successRate: { requestVolume: 20 } });
    expect(resolveOutlierConfig([mesh, service])).toEqual({
      ...DEFAULT_OUTLIER,
      consecutive5xxErrors: 7,
      intervalMs: 5000,
      successRate: { minimumHosts: 5, requestVolume: 20, stdevFactor: 1900 },
    });
  });

  it('turns detection, or one test, off with enabled: false; the last block decides', () => {
    const off = outlierDetectionSchema.parse({ enabled: false });
    const some = outlierDetectionSchema.parse({ consecutive5xxErrors: 2 });
    expect(resolveOutlierConfig([undefined, off])).toBeUndefined();
    expect(resolveOutlierConfig([some, off])).toBeUndefined();
    expect(resolveOutlierConfig([off, some])?.consecutive5xxErrors).toBe(2);

    const fp = outlierDetectionSchema.parse({ failurePercentage: { threshold: 70 } });
    const fpOff = outlierDetectionSchema.parse({ failurePercentage: { enabled: false } });
    expect(resolveOutlierConfig([fp])?.failurePercentage).toEqual({ threshold: 70, minimumHosts: 5, requestVolume: 50 });
    expect(resolveOutlierConfig([fp, fpOff])?.failurePercentage).toBeUndefined();
  });

  it("uses Envoy's maxEjectionTime default: 300 s or the base, whichever is longer", () => {
    const longBase = outlierDetectionSchema.parse({ baseEjectionTime: '10m' });
    expect(resolveOutlierConfig([longBase])?.maxEjectionTimeMs).toBe(600_000);
    const both = outlierDetectionSchema.parse({ baseEjectionTime: '10s', maxEjectionTime: '1m' });
    expect(resolveOutlierConfig([both])?.maxEjectionTimeMs).toBe(60_000);
  });
});
