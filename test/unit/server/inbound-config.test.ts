import { expect, test } from 'vitest';
import { ConfigError } from '../../../src/config/config-error.js';
import { validateConfig } from '../../../src/config/validate.js';

test('mesh.inbound: durations parsed, drain and rate-limit defaults filled in', () => {
  const cfg = validateConfig(
    { mesh: { inbound: { maxConcurrentRequests: 100, maxEventLoopDelay: '150ms', rateLimit: { tokensPerFill: 50 } } } },
    'test',
  );
  expect(cfg.mesh.inbound).toEqual({
    maxConcurrentRequests: 100,
    maxEventLoopDelay: 150,
    retryAfter: 1000,
    rateLimit: { maxTokens: 50, tokensPerFill: 50, fillIntervalMs: 1000 },
    drain: { timeout: 10_000, delay: 0, signals: ['SIGTERM'] },
  });
  expect(validateConfig({ mesh: { inbound: { drain: { timeout: '30s', signals: [] } } } }, 'test').mesh.inbound?.drain).toEqual({
    timeout: 30_000,
    delay: 0,
    signals: [],
  });
});

test('bad inbound settings are refused with the path and the reason', () => {
  const issues = (raw: unknown) => {
    try {
      validateConfig(raw, 'test');
    } catch (err) {
      if (err instanceof ConfigError) return err.issues.map((i) => `${i.path}: ${i.message}`);
      throw err;
    }
    return [];
  };
  expect(issues({ mesh: { inbound: { maxConcurrentRequests: 0 } } })).toEqual([
    'mesh.inbound.maxConcurrentRequests: must be a whole number, 1 or more, got 0',
  ]);
  expect(issues({ mesh: { inbound: { maxEventLoopDelay: 0 } } })).toEqual(['mesh.inbound.maxEventLoopDelay: must be longer than 0']);
  expect(issues({ mesh: { inbound: { drain: { signals: ['SIGKILL'] } } } })[0]).toMatch(/^mesh\.inbound\.drain\.signals\[0\]: must be one of "SIGTERM", "SIGINT"/);
  expect(issues({ mesh: { inbound: { maxConcurrency: 5 } } })[0]).toMatch(/^mesh\.inbound.*maxConcurrency/);
});
