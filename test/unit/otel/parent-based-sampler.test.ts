import { ROOT_CONTEXT, type SpanContext, SpanKind, TraceFlags, trace } from '@opentelemetry/api';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  type Sampler,
  SamplingDecision,
  ParentBasedSampler as SdkParentBasedSampler,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-node';
import { describe, expect, it } from 'vitest';
import { ParentBasedSampler } from '../../../src/otel/parent-based-sampler.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

/** Parents of every kind the decision turns on, valid or not, in the forms the mesh and others make them. */
const parents: Record<string, SpanContext | undefined> = {
  none: undefined,
  'remote sampled': { traceId: TRACE, spanId: SPAN, traceFlags: TraceFlags.SAMPLED, isRemote: true },
  'remote not sampled': { traceId: TRACE, spanId: SPAN, traceFlags: TraceFlags.NONE, isRemote: true },
  'local sampled': { traceId: TRACE, spanId: SPAN, traceFlags: TraceFlags.SAMPLED },
  'local not sampled': { traceId: TRACE, spanId: SPAN, traceFlags: TraceFlags.NONE, isRemote: false },
  'uppercase IDs': { traceId: TRACE.toUpperCase(), spanId: SPAN.toUpperCase(), traceFlags: TraceFlags.NONE, isRemote: true },
  'all-zero trace ID': { traceId: '0'.repeat(32), spanId: SPAN, traceFlags: TraceFlags.NONE, isRemote: true },
  'all-zero span ID': { traceId: TRACE, spanId: '0'.repeat(16), traceFlags: TraceFlags.NONE, isRemote: true },
  'short trace ID': { traceId: TRACE.slice(1), spanId: SPAN, traceFlags: TraceFlags.NONE, isRemote: true },
  'non-hex span ID': { traceId: TRACE, spanId: 'zzf067aa0ba902b7', traceFlags: TraceFlags.NONE, isRemote: true },
};

/** A sampler that says which delegate the parent-based sampler asked. */
function named(name: string): Sampler {
  return { shouldSample: () => ({ decision: SamplingDecision.NOT_RECORD, attributes: { delegate: name } }), toString: () => name };
}

const delegates = {
  root: named('root'),
  remoteParentSampled: named('remoteParentSampled'),
  remoteParentNotSampled: named('remoteParentNotSampled'),
  localParentSampled: named('localParentSampled'),
  localParentNotSampled: named('localParentNotSampled'),
};

describe("the mesh's parent-based sampler", () => {
  it("asks the delegate the SDK's ParentBasedSampler asks, for every kind of parent", () => {
    const mesh = new ParentBasedSampler(delegates);
    const sdk = new SdkParentBasedSampler(delegates);
    const asked = (s: Sampler, parent: SpanContext | undefined) => {
      const ctx = parent === undefined ? ROOT_CONTEXT : trace.setSpanContext(ROOT_CONTEXT, parent);
      return s.shouldSample(ctx, TRACE, 'GET', SpanKind.CLIENT, {}, []).attributes?.delegate;
    };
    const meshAnswers = Object.fromEntries(Object.entries(parents).map(([k, p]) => [k, asked(mesh, p)]));
    const sdkAnswers = Object.fromEntries(Object.entries(parents).map(([k, p]) => [k, asked(sdk, p)]));
    expect(meshAnswers).toEqual(sdkAnswers);
    // Not vacuous: the matrix reaches every delegate, and the invalid parents fall to the root.
    expect(new Set(Object.values(meshAnswers))).toEqual(new Set(Object.keys(delegates)));
    expect(meshAnswers['all-zero trace ID']).toBe('root');
    expect(meshAnswers['uppercase IDs']).toBe('remoteParentNotSampled');
  });

  it("defaults the parent delegates and describes itself as the SDK's does", () => {
    for (const root of [new AlwaysOnSampler(), new AlwaysOffSampler(), new TraceIdRatioBasedSampler(0.01)]) {
      expect(new ParentBasedSampler({ root }).toString()).toBe(new SdkParentBasedSampler({ root }).toString());
    }
    const sampled = trace.setSpanContext(ROOT_CONTEXT, parents['remote sampled']!);
    const notSampled = trace.setSpanContext(ROOT_CONTEXT, parents['local not sampled']!);
    const s = new ParentBasedSampler({ root: new AlwaysOffSampler() });
    expect(s.shouldSample(sampled, TRACE, 'x', SpanKind.SERVER, {}, []).decision).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(s.shouldSample(notSampled, TRACE, 'x', SpanKind.SERVER, {}, []).decision).toBe(SamplingDecision.NOT_RECORD);
    expect(s.shouldSample(ROOT_CONTEXT, TRACE, 'x', SpanKind.SERVER, {}, []).decision).toBe(SamplingDecision.NOT_RECORD);
  });
});
