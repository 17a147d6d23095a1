/**
 * The `outlierDetection` block, in the field names of Istio's
 * DestinationRule, and how mesh-wide and per-service blocks combine into the
 * detector's config. Every field is optional: a block overrides only what it
 * writes, over Envoy's defaults.
 */
import { z } from 'zod';
import {
  DEFAULT_FAILURE_PERCENTAGE,
  DEFAULT_OUTLIER,
  DEFAULT_SUCCESS_RATE,
  type FailurePercentageRule,
  type OutlierConfig,
  type SuccessRateRule,
} from '../balancer/outlier-detection.js';
// fields.js, not schema.js: schema.ts embeds this block, so importing it back would be a cycle.
import { duration, shown } from './fields.js';

const COUNT_ERROR = (iss: { input?: unknown }) => `must be a whole number, 0 or more, got ${shown(iss.input)}`;
const count = z.number().int({ error: COUNT_ERROR }).min(0, { error: COUNT_ERROR });

const percent = z
  .number()
  .min(0, { error: (iss) => `must be a percentage from 0 to 100, got ${shown(iss.input)}` })
  .max(100, { error: (iss) => `must be a percentage from 0 to 100, got ${shown(iss.input)}` });

// Envoy rejects a zero interval or ejection time; a zero interval would also spin the sweep timer.
const positiveDuration = duration.refine((ms) => ms > 0, { error: 'must be longer than 0' });

const STDEV_HINT = 'is in thousandths of a standard deviation, as in Envoy: write 1900 for 1.9';

const successRate = z.strictObject({
  enabled: z.boolean().optional(),
  minimumHosts: count.optional(),
  requestVolume: count.optional(),
  stdevFactor: z
    .number()
    .int({ error: (iss) => `${STDEV_HINT}, got ${shown(iss.input)}` })
    .min(0, { error: (iss) => `${STDEV_HINT}, got ${shown(iss.input)}` })
    .optional(),
});

const failurePercentage = z.strictObject({
  enabled: z.boolean().optional(),
  threshold: percent.optional(),
  minimumHosts: count.optional(),
  requestVolume: count.optional(),
});

export const outlierDetectionSchema = z
  .strictObject({
    enabled: z.boolean().optional(),
    consecutive5xxErrors: count.optional(),
    consecutiveGatewayErrors: count.optional(),
    interval: positiveDuration.optional(),
    baseEjectionTime: positiveDuration.optional(),
    maxEjectionTime: positiveDuration.optional(),
    maxEjectionPercent: percent.optional(),
    alwaysEjectOneHost: z.boolean().optional(),
    successRate: successRate.optional(),
    failurePercentage: failurePercentage.optional(),
  })
  .superRefine((od, ctx) => {
    if (od.maxEjectionTime !== undefined && od.baseEjectionTime !== undefined && od.maxEjectionTime < od.baseEjectionTime) {
      ctx.addIssue({
        code: 'custom',
        path: ['maxEjectionTime'],
        message: `must not be shorter than baseEjectionTime (${od.baseEjectionTime}ms), got ${od.maxEjectionTime}ms`,
      });
    }
  });

/** What users write. */
export type OutlierDetectionInput = z.input<typeof outlierDetectionSchema>;
/** The validated block: durations in ms. */
export type OutlierDetectionConfig = z.output<typeof outlierDetectionSchema>;

type Block<T> = { readonly [K in keyof T]?: T[K] | undefined };

/** Fields a layer wrote win over the ones before it; unwritten fields do not. */
function overlay<T extends object>(base: T, layer: Block<T>): T {
  const out = { ...base };
  for (const key of Object.keys(layer) as Array<keyof T>) {
    const value = layer[key];
    if (value !== undefined) out[key] = value as T[keyof T];
  }
  return out;
}

/**
 * Merge outlierDetection blocks, lowest precedence first (mesh, then
 * service), over DEFAULT_OUTLIER. Writing a block, or a successRate or
 * failurePercentage block inside one, switches that thing on unless the
 * block says `enabled: false`; the last block to speak decides. Returns
 * undefined when detection ends up off.
 *
 * maxEjectionTime left unwritten everywhere is Envoy's: 300 s, or the base
 * ejection time if that is longer.
 */
export function resolveOutlierConfig(layers: ReadonlyArray<OutlierDetectionConfig | undefined>): OutlierConfig | undefined {
  let enabled = true;
  let config: OutlierConfig = { ...DEFAULT_OUTLIER };
  let maxWritten = false;
  let success: SuccessRateRule | undefined;
  let successOn = false;
  let failure: FailurePercentageRule | undefined;
  let failureOn = false;
  for (const layer of layers) {
    if (layer === undefined) continue;
    enabled = layer.enabled ?? true;
    config = overlay(config, {
      consecutive5xxErrors: layer.consecutive5xxErrors,
      consecutiveGatewayErrors: layer.consecutiveGatewayErrors,
      intervalMs: layer.interval,
      baseEjectionTimeMs: layer.baseEjectionTime,
      maxEjectionTimeMs: layer.maxEjectionTime,
      maxEjectionPercent: layer.maxEjectionPercent,
      alwaysEjectOneHost: layer.alwaysEjectOneHost,
    });
    if (layer.maxEjectionTime !== undefined) maxWritten = true;
    if (layer.successRate !== undefined) {
      const { enabled: on, ...fields } = layer.successRate;
      successOn = on ?? true;
      success = overlay(success ?? DEFAULT_SUCCESS_RATE, fields);
    }
    if (layer.failurePercentage !== undefined) {
      const { enabled: on, ...fields } = layer.failurePercentage;
      failureOn = on ?? true;
      failure = overlay(failure ?? DEFAULT_FAILURE_PERCENTAGE, fields);
    }
  }
  if (!enabled) return undefined;
  if (!maxWritten) config.maxEjectionTimeMs = Math.max(DEFAULT_OUTLIER.maxEjectionTimeMs, config.baseEjectionTimeMs);
  if (successOn && success !== undefined) config.successRate = success;
  if (failureOn && failure !== undefined) config.failurePercentage = failure;
  return config;
}
