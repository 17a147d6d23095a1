import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import type { ConfigIssue } from '../../../src/config/config-error.js';
import {
  circuitBreakerSchema,
  connectionPoolSchema,
  hedgingSchema,
  parseRetryOn,
  RETRY_CONDITIONS,
  RETRY_ON,
  rateLimitSchema,
  retriesSchema,
  retryBudgetSchema,
  retryBufferBytesSchema,
  timeoutSchema,
} from '../../../src/config/resilience-schema.js';
import { toConfigIssues, validateConfig } from '../../../src/config/validate.js';
import { compileRetryPolicy } from '../../../src/resilience/retry-policy.js';

const ALLOWED = RETRY_CONDITIONS.join(', ');
const DURATION_HINT = 'write milliseconds as a number or a string like "250ms", "5s", "1m30s"';

/** The issues a user would see for `raw` under `schema`, paths relative to the block. */
function issues(schema: z.ZodType, raw: unknown): ConfigIssue[] {
  const r = schema.safeParse(raw);
  if (r.success) throw new Error(`expected ${JSON.stringify(raw)} to be rejected`);
  return toConfigIssues(r.error.issues, raw);
}

function parsed<S extends z.ZodType>(schema: S, raw: unknown): z.output<S> {
  const r = schema.safeParse(raw);
  if (!r.success) throw new Error(JSON.stringify(r.error.issues));
  return r.data;
}

describe('retriesSchema', () => {
  it('accepts the documented example, durations in ms', () => {
    expect(
      parsed(retriesSchema, {
        attempts: 2,
        perTryTimeout: '500ms',
        retryOn: '5xx,gateway-error',
        retriableStatusCodes: [503],
        backoff: { baseInterval: '25ms', maxInterval: '250ms' },
        retryNonIdempotent: false,
      }),
    ).toEqual({
      attempts: 2,
      perTryTimeout: 500,
      retryOn: ['5xx', 'gateway-error'],
      retriableStatusCodes: [503],
      backoff: { baseInterval: 25, maxInterval: 250 },
      retryNonIdempotent: false,
    });
  });

  it('leaves every field optional', () => {
    expect(parsed(retriesSchema, {})).toEqual({});
  });

  it('takes retryOn as a list too, trimmed and without repeats', () => {
    expect(parsed(retriesSchema, { retryOn: ['reset', ' 5xx ', 'reset'] }).retryOn).toEqual(['reset', '5xx']);
    expect(parsed(retriesSchema, { retryOn: ' 5xx , reset,,5xx' }).retryOn).toEqual(['5xx', 'reset']);
    expect(parsed(retriesSchema, { retryOn: '' }).retryOn).toEqual([]);
  });

  it('takes a perTryTimeout of 0 as none, overriding a less specific level’s', () => {
    const service = parsed(retriesSchema, { perTryTimeout: '500ms' });
    const route = parsed(retriesSchema, { perTryTimeout: 0 });
    expect(compileRetryPolicy([service]).perTryTimeoutMs).toBe(500);
    expect(compileRetryPolicy([service, route]).perTryTimeoutMs).toBeUndefined();
  });

  it('accepts every documented condition', () => {
    expect(parsed(retriesSchema, { retryOn: RETRY_CONDITIONS.join(',') }).retryOn).toEqual([...RETRY_CONDITIONS]);
  });

  it.each([
    [{ attempts: 11 }, 'attempts', 'must be a whole number from 0 to 10 (retries after the first try), got 11'],
    [{ attempts: -1 }, 'attempts', 'must be a whole number from 0 to 10 (retries after the first try), got -1'],
    [{ attempts: 1.5 }, 'attempts', 'must be a whole number from 0 to 10 (retries after the first try), got 1.5'],
    [{ perTryTimeout: 'soon' }, 'perTryTimeout', `"soon" is not a duration; ${DURATION_HINT}`],
    [
      { retryOn: '5xx,gatway-error' },
      'retryOn',
      `unknown retry condition "gatway-error" (did you mean "gateway-error"?); allowed: ${ALLOWED}`,
    ],
    [{ retryOn: ['5xx', 'RESET'] }, 'retryOn[1]', `unknown retry condition "RESET" (did you mean "reset"?); allowed: ${ALLOWED}`],
    [{ retryOn: ['banana'] }, 'retryOn[0]', `unknown retry condition "banana"; allowed: ${ALLOWED}`],
    [{ retryOn: ['5xx', ' '] }, 'retryOn[1]', 'must not be empty'],
    [{ retryOn: 5 }, 'retryOn', 'must be a comma-separated string such as "5xx,reset" or a list of conditions, got 5'],
    [{ retryOn: [5] }, 'retryOn[0]', 'must be a string, got number 5'],
    [{ retriableStatusCodes: [503, 600] }, 'retriableStatusCodes[1]', 'must be an HTTP status code from 100 to 599, got 600'],
    [{ retriableStatusCodes: [99] }, 'retriableStatusCodes[0]', 'must be an HTTP status code from 100 to 599, got 99'],
    [{ retriableStatusCodes: 503 }, 'retriableStatusCodes', 'must be a list, got number 503'],
    [
      { backoff: { baseInterval: '100ms', maxInterval: '50ms' } },
      'backoff.maxInterval',
      'must not be shorter than baseInterval (100ms), got 50ms',
    ],
    [{ backoff: { baseInterval: 0 } }, 'backoff.baseInterval', 'must be longer than 0'],
    [{ backoff: { base: '25ms' } }, 'backoff.base', 'unknown field'],
    [{ retryNonIdempotent: 'yes' }, 'retryNonIdempotent', 'must be a boolean, got string "yes"'],
    [{ attempt: 2 }, 'attempt', 'unknown field'],
  ])('rejects %j at %s', (raw, path, message) => {
    expect(issues(retriesSchema, raw)).toEqual([{ path, message }]);
  });

  it('reports every problem at once', () => {
    expect(issues(retriesSchema, { attempts: 11, retryOn: 'nope', perTryTimeout: -1 })).toEqual([
      { path: 'attempts', message: 'must be a whole number from 0 to 10 (retries after the first try), got 11' },
      { path: 'perTryTimeout', message: 'must not be negative, got -1' },
      { path: 'retryOn', message: `unknown retry condition "nope"; allowed: ${ALLOWED}` },
    ]);
  });
});

describe('parseRetryOn', () => {
  it('turns conditions into a bitmask with one bit per condition', () => {
    const mask = parseRetryOn(['5xx', ' reset ', '', '5xx']);
    expect(mask).toBe(RETRY_ON['5xx'] | RETRY_ON.reset);
    expect(mask & RETRY_ON['gateway-error']).toBe(0);
    const bits = RETRY_CONDITIONS.map((c) => RETRY_ON[c]);
    expect(new Set(bits).size).toBe(RETRY_CONDITIONS.length);
    for (const b of bits) expect(b & (b - 1)).toBe(0);
  });

  it('throws MESH_INVALID_ARGUMENT, with a hint, on an unknown condition', () => {
    expect(() => parseRetryOn(['5xx', 'retriable-status-code'])).toThrow(
      expect.objectContaining({
        code: 'MESH_INVALID_ARGUMENT',
        message: `unknown retry condition "retriable-status-code" (did you mean "retriable-status-codes"?); allowed: ${ALLOWED}`,
      }),
    );
  });
});

describe('retryBudgetSchema', () => {
  it('accepts the documented example', () => {
    expect(parsed(retryBudgetSchema, { ratio: 0.2, minRetriesPerSecond: 10, ttl: '10s' })).toEqual({
      ratio: 0.2,
      minRetriesPerSecond: 10,
      ttl: 10_000,
    });
  });

  it('accepts the edges of each range', () => {
    expect(parsed(retryBudgetSchema, { ratio: 0, minRetriesPerSecond: 0, ttl: '1s' })).toEqual({
      ratio: 0,
      minRetriesPerSecond: 0,
      ttl: 1000,
    });
    expect(parsed(retryBudgetSchema, { ratio: 1000, ttl: '1m' })).toEqual({ ratio: 1000, ttl: 60_000 });
  });

  it.each([
    [{ ratio: 1001 }, 'ratio', 'must be a number from 0 to 1000 (retries allowed per request: 0.2 allows 20% extra load), got 1001'],
    [{ ratio: -0.1 }, 'ratio', 'must be a number from 0 to 1000 (retries allowed per request: 0.2 allows 20% extra load), got -0.1'],
    [{ ratio: '20%' }, 'ratio', 'must be a number from 0 to 1000 (retries allowed per request: 0.2 allows 20% extra load), got "20%"'],
    [{ minRetriesPerSecond: 1.5 }, 'minRetriesPerSecond', 'must be a whole number, 0 or more, got 1.5'],
    [{ ttl: '500ms' }, 'ttl', 'must be from 1s to 60s, got 500ms'],
    [{ ttl: '2m' }, 'ttl', 'must be from 1s to 60s, got 2m'],
  ])('rejects %j at %s', (raw, path, message) => {
    expect(issues(retryBudgetSchema, raw)).toEqual([{ path, message }]);
  });
});

describe('hedgingSchema', () => {
  it('takes a duration or "p95"', () => {
    expect(parsed(hedgingSchema, { delay: '50ms', maxRequests: 1 })).toEqual({ delay: 50, maxRequests: 1 });
    expect(parsed(hedgingSchema, { delay: 'p95' })).toEqual({ delay: 'p95' });
    expect(parsed(hedgingSchema, { delay: 0 })).toEqual({ delay: 0 });
  });

  it.each([
    [{ delay: 'p99' }, 'delay', '"p99" is not supported; write "p95" (the observed 95th percentile) or a duration such as "50ms"'],
    [{ delay: 'fast' }, 'delay', '"fast" is neither "p95" nor a duration; write milliseconds as a number or a string like "50ms"'],
    [{ delay: -5 }, 'delay', 'must not be negative, got -5'],
    [{ delay: true }, 'delay', 'must be a duration such as "50ms", or "p95", got true'],
    [{ delay: '50ms', maxRequests: 0 }, 'maxRequests', 'must be a whole number from 1 to 3 (backup requests on top of the first), got 0'],
    [{ delay: '50ms', maxRequests: 4 }, 'maxRequests', 'must be a whole number from 1 to 3 (backup requests on top of the first), got 4'],
  ])('rejects %j at %s', (raw, path, message) => {
    expect(issues(hedgingSchema, raw)).toEqual([{ path, message }]);
  });
});

describe('connectionPoolSchema', () => {
  it('accepts the documented example', () => {
    expect(
      parsed(connectionPoolSchema, {
        maxConnections: 100,
        maxPendingRequests: 1024,
        maxRequests: 1024,
        maxRetries: 3,
        connectTimeout: '10s',
      }),
    ).toEqual({ maxConnections: 100, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 3, connectTimeout: 10_000 });
  });

  it.each([
    [{ maxConnections: 0 }, 'maxConnections', 'must be a whole number, 1 or more, got 0'],
    [{ maxPendingRequests: 2.5 }, 'maxPendingRequests', 'must be a whole number, 1 or more, got 2.5'],
    [{ maxRequests: -1 }, 'maxRequests', 'must be a whole number, 1 or more, got -1'],
    [{ maxRetries: 0 }, 'maxRetries', 'must be a whole number, 1 or more, got 0'],
    [{ connectTimeout: 0 }, 'connectTimeout', 'must be longer than 0'],
  ])('rejects %j at %s', (raw, path, message) => {
    expect(issues(connectionPoolSchema, raw)).toEqual([{ path, message }]);
  });
});

describe('circuitBreakerSchema', () => {
  it('accepts the documented example', () => {
    expect(
      parsed(circuitBreakerSchema, {
        errorThresholdPercentage: 50,
        minimumRequests: 20,
        window: '10s',
        openFor: '5s',
        halfOpenRequests: 1,
      }),
    ).toEqual({ errorThresholdPercentage: 50, minimumRequests: 20, window: 10_000, openFor: 5000, halfOpenRequests: 1 });
  });

  it.each([
    [{ errorThresholdPercentage: 0 }, 'errorThresholdPercentage', 'must be a percentage above 0 and at most 100, got 0'],
    [{ errorThresholdPercentage: 101 }, 'errorThresholdPercentage', 'must be a percentage above 0 and at most 100, got 101'],
    [{ minimumRequests: 0 }, 'minimumRequests', 'must be a whole number, 1 or more, got 0'],
    [{ window: 0 }, 'window', 'must be longer than 0'],
    [{ openFor: 'later' }, 'openFor', `"later" is not a duration; ${DURATION_HINT}`],
    [{ halfOpenRequests: 0 }, 'halfOpenRequests', 'must be a whole number, 1 or more, got 0'],
  ])('rejects %j at %s', (raw, path, message) => {
    expect(issues(circuitBreakerSchema, raw)).toEqual([{ path, message }]);
  });
});

describe('rateLimitSchema', () => {
  it('accepts the documented example', () => {
    expect(parsed(rateLimitSchema, { maxTokens: 100, tokensPerFill: 100, fillInterval: '1s' })).toEqual({
      maxTokens: 100,
      tokensPerFill: 100,
      fillInterval: 1000,
    });
  });

  it.each([
    [{ maxTokens: 0 }, 'maxTokens', 'must be a whole number, 1 or more, got 0'],
    [{ tokensPerFill: 0.5 }, 'tokensPerFill', 'must be a whole number, 1 or more, got 0.5'],
    [{ fillInterval: 0 }, 'fillInterval', 'must be longer than 0'],
  ])('rejects %j at %s', (raw, path, message) => {
    expect(issues(rateLimitSchema, raw)).toEqual([{ path, message }]);
  });
});

describe('timeoutSchema and retryBufferBytesSchema', () => {
  it('reads a timeout as ms, 0 included (no timeout, as in Istio)', () => {
    expect(parsed(timeoutSchema, '2s')).toBe(2000);
    expect(parsed(timeoutSchema, 0)).toBe(0);
  });

  it('bounds the replay buffer to 0..64 MiB', () => {
    expect(parsed(retryBufferBytesSchema, 0)).toBe(0);
    expect(parsed(retryBufferBytesSchema, 64 * 1024 * 1024)).toBe(67_108_864);
    expect(issues(retryBufferBytesSchema, 64 * 1024 * 1024 + 1)).toEqual([
      { path: '', message: 'must be a whole number from 0 to 67108864 bytes (at most 64 MiB), got 67108865' },
    ]);
  });
});

describe('in the full config', () => {
  it('reports the whole path and a did-you-mean for misspelt fields', () => {
    expect(() =>
      validateConfig({ mesh: { retries: { retryOn: 'connect-failures', atempts: 1 } } }, 'test'),
    ).toThrow(
      expect.objectContaining({
        issues: [
          {
            path: 'mesh.retries.retryOn',
            message: `unknown retry condition "connect-failures" (did you mean "connect-failure"?); allowed: ${ALLOWED}`,
          },
          { path: 'mesh.retries.atempts', message: 'unknown field (did you mean "attempts"?)' },
        ],
      }),
    );
  });
});
