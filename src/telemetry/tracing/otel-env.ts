/**
 * The standard OTEL_* variables that `proxyless/otel` reads itself (the
 * SDK and exporter read the rest: OTEL_TRACES_SAMPLER, OTEL_EXPORTER_OTLP_*,
 * OTEL_BSP_*). API-only, so the core can test them without the SDK.
 */
import { diag } from '@opentelemetry/api';
import { DEFAULT_PROPAGATION, PROPAGATION_FORMATS, type PropagationFormat } from './mesh-propagator.js';

/** OTEL_SDK_DISABLED: only the string "true" (any case) disables, per the spec. */
export function sdkDisabled(value: string | undefined): boolean {
  return value?.trim().toLowerCase() === 'true';
}

/** Names the spec defines that this library does not implement: warned about and skipped. */
const UNSUPPORTED = new Set(['jaeger', 'xray', 'ottrace']);

/**
 * OTEL_PROPAGATORS as mesh formats: unset or empty means the spec's default
 * (`tracecontext,baggage`); `none` means no propagator at all (an empty
 * list). Unknown names are warned about and skipped, as the spec says, not
 * fatal: a typo in a tracing variable must not stop a service.
 */
export function propagatorsFromEnv(value: string | undefined): PropagationFormat[] {
  if (value === undefined || value.trim() === '') return [...DEFAULT_PROPAGATION];
  const out: PropagationFormat[] = [];
  for (const part of value.split(',')) {
    const name = part.trim().toLowerCase();
    if (name === '') continue;
    if (name === 'none') return [];
    if ((PROPAGATION_FORMATS as readonly string[]).includes(name)) {
      if (!out.includes(name as PropagationFormat)) out.push(name as PropagationFormat);
    } else {
      const why = UNSUPPORTED.has(name) ? 'is not supported by proxyless' : 'is not a known propagator';
      diag.warn(`OTEL_PROPAGATORS: "${name}" ${why}; skipped (known: ${PROPAGATION_FORMATS.join(', ')}, none)`);
    }
  }
  return out;
}
