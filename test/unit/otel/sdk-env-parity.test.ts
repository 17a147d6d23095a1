/**
 * proxyless/otel reads OTEL_TRACES_SAMPLER and the span limits itself (the
 * SDK keeps its reading internal). For the same environment, its sampler
 * and limits must be the ones the SDK's own BasicTracerProvider builds; the
 * SDK's are read from its tracer options, a test-only look inside.
 */
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-node';
import { afterEach, expect, it, vi } from 'vitest';
import { samplerFromEnv, spanLimitsFromEnv } from '../../../src/otel/sdk-env.js';

afterEach(() => {
  vi.unstubAllEnvs();
});

const CASES: Array<Record<string, string>> = [
  {},
  { OTEL_TRACES_SAMPLER: 'always_off' },
  { OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.3' },
  { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '7' },
  { OTEL_TRACES_SAMPLER: 'parentbased_always_off' },
  { OTEL_TRACES_SAMPLER: 'nonsense' },
  { OTEL_ATTRIBUTE_COUNT_LIMIT: '9', OTEL_SPAN_EVENT_COUNT_LIMIT: '4', OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '20' },
  { OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT: '3', OTEL_ATTRIBUTE_COUNT_LIMIT: '9', OTEL_SPAN_LINK_COUNT_LIMIT: '0' },
];

it.each(CASES)('builds what the SDK builds from %o', (env) => {
  for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
  const sdk = (new BasicTracerProvider() as unknown as { _tracerOptions: { sampler: object; spanLimits: object } })._tracerOptions;
  expect(samplerFromEnv(process.env).toString()).toBe(sdk.sampler.toString());
  expect(spanLimitsFromEnv(process.env)).toEqual(sdk.spanLimits);
});
