import { expect, test } from 'vitest';
import { MeshError } from '../../../src/errors.js';
import { type AttemptOutcome, builtinClassifier, outlierResultOf, retryReasonOf } from '../../../src/resilience/classifier.js';
import { compileRetryPolicy, isIdempotent } from '../../../src/resilience/retry-policy.js';

const response = (status: number, grpcStatus?: number): AttemptOutcome => ({
  kind: 'response',
  status,
  grpcStatus,
  header: () => undefined,
});
const error = (err: Error, responseStarted = false): AttemptOutcome => ({ kind: 'error', error: err, responseStarted });

test.each([
  [200, 'success', undefined],
  [404, 'success', undefined],
  [429, 'success', undefined],
  [500, 'failure', '5xx'],
  [501, 'failure', '5xx'],
  [502, 'failure', 'gateway-error'],
  [503, 'failure', 'gateway-error'],
  [504, 'failure', 'gateway-error'],
])('HTTP %i is %s (%s)', (status, cls, reason) => {
  expect(builtinClassifier(response(status))).toEqual({ class: cls, reason });
});

test('transport failures before any response byte are retryable; after, they are not', () => {
  const connect = new MeshError('MESH_CONNECT_FAILURE', 'refused');
  const reset = new MeshError('MESH_UPSTREAM_RESET', 'reset');
  const refused = new MeshError('MESH_UPSTREAM_RESET', 'refused', {
    cause: Object.assign(new Error('Stream closed with error code NGHTTP2_REFUSED_STREAM'), {
      code: 'ERR_HTTP2_STREAM_ERROR',
    }),
  });
  expect(builtinClassifier(error(connect))).toEqual({ class: 'retryable', reason: 'connect-failure' });
  expect(builtinClassifier(error(reset))).toEqual({ class: 'retryable', reason: 'reset' });
  expect(builtinClassifier(error(refused))).toEqual({ class: 'retryable', reason: 'refused-stream' });
  expect(builtinClassifier(error(reset, true))).toEqual({ class: 'failure', reason: 'reset-after-response' });
  expect(builtinClassifier(error(new MeshError('MESH_ATTEMPT_TIMEOUT', 't')))).toEqual({
    class: 'retryable',
    reason: 'per-try-timeout',
  });
  expect(builtinClassifier(error(new Error('odd')))).toEqual({ class: 'failure', reason: 'other' });
});

test('gRPC statuses: OK and caller errors succeed, UNAVAILABLE and CANCELLED are retryable as in Istio, other server faults fail with their retryOn names', () => {
  expect(builtinClassifier(response(200, 0)).class).toBe('success');
  expect(builtinClassifier(response(200, 5)).class).toBe('success');
  expect(builtinClassifier(response(200, 14))).toEqual({ class: 'retryable', reason: 'unavailable' });
  expect(builtinClassifier(response(200, 1))).toEqual({ class: 'retryable', reason: 'cancelled' });
  expect(builtinClassifier(response(200, 8))).toEqual({ class: 'failure', reason: 'resource-exhausted' });
  expect(builtinClassifier(response(200, 15))).toEqual({ class: 'failure', reason: 'other' });
});

test('outlier detection sees gateway errors, other 5xx and local failures apart', () => {
  expect(outlierResultOf(builtinClassifier(response(503)))).toBe('gateway');
  expect(outlierResultOf(builtinClassifier(response(500)))).toBe('http-5xx');
  expect(outlierResultOf(builtinClassifier(error(new MeshError('MESH_CONNECT_FAILURE', 'x'))))).toBe('local-failure');
  expect(outlierResultOf(builtinClassifier(response(200)))).toBe('success');
});

test('retryOn adds conditions to the classifier’s retryable failures; later layers win', () => {
  const defaults = compileRetryPolicy([]);
  const connect = builtinClassifier(error(new MeshError('MESH_CONNECT_FAILURE', 'x')));
  expect(defaults.maxRetries).toBe(2);
  expect(defaults.retries(connect, error(new Error('x')))).toBe(true);
  expect(defaults.retries(builtinClassifier(response(503)), response(503))).toBe(false);

  const gateway = compileRetryPolicy([{ retryOn: '5xx' }, { retryOn: 'gateway-error', attempts: 4 }]);
  expect(gateway.maxRetries).toBe(4);
  expect(gateway.retries(builtinClassifier(response(503)), response(503))).toBe(true);
  expect(gateway.retries(builtinClassifier(response(500)), response(500))).toBe(false);

  const codes = compileRetryPolicy([{ retryOn: ['retriable-status-codes'], retriableStatusCodes: [500] }]);
  expect(codes.retries(builtinClassifier(response(500)), response(500))).toBe(true);
  expect(codes.retries(builtinClassifier(response(503)), response(503))).toBe(false);
  expect(codes.retries(builtinClassifier(response(200)), response(200))).toBe(false);

  const backoff = compileRetryPolicy([{ backoff: { baseInterval: 10 } }]);
  expect([backoff.backoffBaseMs, backoff.backoffMaxMs]).toEqual([10, 100]);
});

test('a retry’s reason: the failure’s, or retriable-status-codes for a listed status the classifier called a success', () => {
  expect(retryReasonOf(builtinClassifier(response(429)))).toBe('retriable-status-codes');
  expect(retryReasonOf(builtinClassifier(response(503)))).toBe('gateway-error');
  expect(retryReasonOf(builtinClassifier(response(200, 14)))).toBe('unavailable');
  expect(retryReasonOf(builtinClassifier(error(new MeshError('MESH_CONNECT_FAILURE', 'x'))))).toBe('connect-failure');
});

test('idempotent methods, or any request with an Idempotency-Key', () => {
  for (const m of ['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']) expect(isIdempotent(m, false)).toBe(true);
  for (const m of ['POST', 'PATCH']) expect(isIdempotent(m, false)).toBe(false);
  expect(isIdempotent('POST', true)).toBe(true);
});
