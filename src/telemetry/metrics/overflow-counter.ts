/**
 * `proxyless_metrics_label_overflow_total{metric}`: how many observations were
 * folded into an overflow series because a metric reached its label-set cap.
 * Shared by every metric family in a registry, so it is fetched or created
 * rather than registered twice.
 */

import { Counter } from 'prom-client';
import type { AnyRegistry } from './any-registry.js';

export const LABEL_OVERFLOW_METRIC = 'proxyless_metrics_label_overflow_total';
/** The value every folded label takes (except those an overflow series keeps). */
export const OVERFLOW_LABEL = 'overflow';

export type OverflowCounter = Counter<'metric'>;

export function overflowCounter(registry: AnyRegistry): OverflowCounter {
  const existing = registry.getSingleMetric(LABEL_OVERFLOW_METRIC);
  if (existing instanceof Counter) return existing as OverflowCounter;
  return new Counter({
    name: LABEL_OVERFLOW_METRIC,
    help: 'Observations folded into an overflow series because the metric reached its cap on distinct label sets.',
    labelNames: ['metric'],
    registers: [registry],
  });
}
