import { DiagLogLevel, diag, ROOT_CONTEXT, SpanKind } from '@opentelemetry/api';
import { AlwaysOffSampler, AlwaysOnSampler, SamplingDecision, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-node';
import { afterEach, describe, expect, it } from 'vitest';
import { ParentBasedSampler } from '../../../src/otel/parent-based-sampler.js';
import { samplerFromEnv, spanLimitsFromEnv } from '../../../src/otel/sdk-env.js';

const logged: string[] = [];
diag.setLogger(
  { error: (m) => logged.push(m), warn: (m) => logged.push(m), info: () => {}, debug: () => {}, verbose: () => {} },
  DiagLogLevel.WARN,
);
afterEach(() => {
  logged.length = 0;
});

/** What the sampler decides for a root span (no parent) on a trace ID that a 0.5 ratio keeps and one it drops. */
function decides(sampler: ReturnType<typeof samplerFromEnv>): [SamplingDecision, SamplingDecision] {
  const decide = (traceId: string) => sampler.shouldSample(ROOT_CONTEXT, traceId, 'x', SpanKind.CLIENT, {}, []).decision;
  return [decide(`${'0'.repeat(24)}00000001`), decide(`${'0'.repeat(24)}ffffffff`)];
}

describe('OTEL_TRACES_SAMPLER', () => {
  it('builds each sampler the spec names, parentbased_always_on by default', () => {
    expect(samplerFromEnv({})).toBeInstanceOf(ParentBasedSampler);
    expect(samplerFromEnv({ OTEL_TRACES_SAMPLER: ' ' }).toString()).toBe(samplerFromEnv({}).toString());
    expect(samplerFromEnv({ OTEL_TRACES_SAMPLER: 'always_on' })).toBeInstanceOf(AlwaysOnSampler);
    expect(samplerFromEnv({ OTEL_TRACES_SAMPLER: 'always_off' })).toBeInstanceOf(AlwaysOffSampler);
    expect(samplerFromEnv({ OTEL_TRACES_SAMPLER: 'traceidratio' })).toBeInstanceOf(TraceIdRatioBasedSampler);
    expect(decides(samplerFromEnv({ OTEL_TRACES_SAMPLER: 'parentbased_always_off' }))).toEqual([SamplingDecision.NOT_RECORD, SamplingDecision.NOT_RECORD]);
    expect(decides(samplerFromEnv({ OTEL_TRACES_SAMPLER: 'parentbased_always_on' }))).toEqual([
      SamplingDecision.RECORD_AND_SAMPLED,
      SamplingDecision.RECORD_AND_SAMPLED,
    ]);
  });

  it('applies OTEL_TRACES_SAMPLER_ARG to the ratio samplers', () => {
    const half = samplerFromEnv({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.5' });
    expect(decides(half)).toEqual([SamplingDecision.RECORD_AND_SAMPLED, SamplingDecision.NOT_RECORD]);
    expect(samplerFromEnv({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25' }).toString()).toContain('0.25');
  });

  it('names what was wrong and falls back: an unknown sampler, a ratio out of range or not a number', () => {
    expect(samplerFromEnv({ OTEL_TRACES_SAMPLER: 'jaeger_remote' })).toBeInstanceOf(ParentBasedSampler);
    expect(logged.at(-1)).toMatch(/OTEL_TRACES_SAMPLER="jaeger_remote" is not supported/);
    expect(samplerFromEnv({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '2' }).toString()).toContain('1}');
    expect(logged.at(-1)).toMatch(/OTEL_TRACES_SAMPLER_ARG=2 is outside/);
    samplerFromEnv({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: 'half' });
    expect(logged.at(-1)).toMatch(/OTEL_TRACES_SAMPLER_ARG: "half" is not a number/);
  });
});

describe('span limits', () => {
  it('defaults to the spec: 128 of each, values unbounded', () => {
    expect(spanLimitsFromEnv({})).toEqual({
      attributeCountLimit: 128,
      attributeValueLengthLimit: Number.POSITIVE_INFINITY,
      eventCountLimit: 128,
      linkCountLimit: 128,
      attributePerEventCountLimit: 128,
      attributePerLinkCountLimit: 128,
    });
  });

  it('takes the span variable over the general one', () => {
    const limits = spanLimitsFromEnv({
      OTEL_ATTRIBUTE_COUNT_LIMIT: '10',
      OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT: '5',
      OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '64',
      OTEL_SPAN_EVENT_COUNT_LIMIT: '3',
      OTEL_SPAN_LINK_COUNT_LIMIT: '2',
      OTEL_SPAN_ATTRIBUTE_PER_EVENT_COUNT_LIMIT: '4',
      OTEL_SPAN_ATTRIBUTE_PER_LINK_COUNT_LIMIT: '6',
    });
    expect(limits).toEqual({
      attributeCountLimit: 5,
      attributeValueLengthLimit: 64,
      eventCountLimit: 3,
      linkCountLimit: 2,
      attributePerEventCountLimit: 4,
      attributePerLinkCountLimit: 6,
    });
    expect(spanLimitsFromEnv({ OTEL_ATTRIBUTE_COUNT_LIMIT: '10' }).attributeCountLimit).toBe(10);
  });

  it('warns once about a value length limit that is not positive, which cuts nothing', () => {
    expect(spanLimitsFromEnv({ OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '0' }).attributeValueLengthLimit).toBe(0);
    expect(logged).toEqual(['attribute value length limit 0 (OTEL_*ATTRIBUTE_VALUE_LENGTH_LIMIT) is not positive; values are not cut']);
  });
});
