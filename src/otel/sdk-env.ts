/**
 * The sampler and span limits the OpenTelemetry SDK would build from
 * OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG and OTEL_*_LIMIT, built once
 * by `proxyless/otel` and handed to both the SDK's provider and the mesh's
 * span recorder, so every span in the process samples and truncates alike.
 * The SDK keeps its own reading of these variables internal, hence this.
 */
import { diag } from '@opentelemetry/api';
import { AlwaysOffSampler, AlwaysOnSampler, type Sampler, type SpanLimits, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-node';
import { ParentBasedSampler } from './parent-based-sampler.js';

type Env = Readonly<Record<string, string | undefined>>;

export const SAMPLER_NAMES = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;

/** A set variable's trimmed text; unset and blank are the same, as in the SDK. */
function text(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
}

/** A numeric variable, or undefined (with a warning naming it) when it does not parse. */
function number(env: Env, name: string): number | undefined {
  const v = text(env, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (Number.isNaN(n)) {
    diag.warn(`${name}: "${v}" is not a number; ignored`);
    return undefined;
  }
  return n;
}

/** OTEL_TRACES_SAMPLER_ARG for the ratio samplers: 0..1, 1 when unset or out of range. */
function ratio(env: Env): number {
  const r = number(env, 'OTEL_TRACES_SAMPLER_ARG');
  if (r === undefined) return 1;
  if (r < 0 || r > 1) {
    diag.error(`OTEL_TRACES_SAMPLER_ARG=${r} is outside [0..1]; using 1`);
    return 1;
  }
  return r;
}

/**
 * The sampler OTEL_TRACES_SAMPLER names; `parentbased_always_on` when unset
 * or unknown. The parent-based ones are the mesh's (parent-based-sampler.ts
 * says why), deciding as the SDK's would.
 */
export function samplerFromEnv(env: Env): Sampler {
  const name = text(env, 'OTEL_TRACES_SAMPLER') ?? 'parentbased_always_on';
  switch (name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio(env));
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio(env)) });
    default:
      diag.error(`OTEL_TRACES_SAMPLER="${name}" is not supported (known: ${SAMPLER_NAMES.join(', ')}); using parentbased_always_on`);
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

/** Span limits with every field set: the span-specific variable, then the general one, then the spec's default. */
export type FullSpanLimits = Required<SpanLimits>;

export function spanLimitsFromEnv(env: Env): FullSpanLimits {
  const limits = {
    attributeCountLimit: number(env, 'OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT') ?? number(env, 'OTEL_ATTRIBUTE_COUNT_LIMIT') ?? 128,
    attributeValueLengthLimit:
      number(env, 'OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT') ?? number(env, 'OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT') ?? Number.POSITIVE_INFINITY,
    eventCountLimit: number(env, 'OTEL_SPAN_EVENT_COUNT_LIMIT') ?? 128,
    linkCountLimit: number(env, 'OTEL_SPAN_LINK_COUNT_LIMIT') ?? 128,
    attributePerEventCountLimit: number(env, 'OTEL_SPAN_ATTRIBUTE_PER_EVENT_COUNT_LIMIT') ?? 128,
    attributePerLinkCountLimit: number(env, 'OTEL_SPAN_ATTRIBUTE_PER_LINK_COUNT_LIMIT') ?? 128,
  };
  // The SDK ignores such a limit, warning at every value; once is enough to say so.
  if (limits.attributeValueLengthLimit <= 0) {
    diag.warn(`attribute value length limit ${limits.attributeValueLengthLimit} (OTEL_*ATTRIBUTE_VALUE_LENGTH_LIMIT) is not positive; values are not cut`);
  }
  return limits;
}
