import type { OpenMetricsContentType, PrometheusContentType, Registry } from 'prom-client';

/** A prom-client Registry serving either text format (prom-client types the two apart). */
export type AnyRegistry = Registry<PrometheusContentType> | Registry<OpenMetricsContentType>;
