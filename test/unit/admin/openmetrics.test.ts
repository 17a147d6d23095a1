/**
 * The text → OpenMetrics rewrite, checked against prom-client's own
 * OpenMetrics output for the same metrics (a second registry set to
 * OpenMetrics from the start, so neither one is switched mid-life).
 */
import { Counter, Gauge, Histogram, type OpenMetricsContentType, Registry } from 'prom-client';
import { expect, test } from 'vitest';
import { prefersOpenMetrics, toOpenMetrics } from '../../../src/admin/openmetrics.js';
import type { AnyRegistry } from '../../../src/telemetry/metrics/any-registry.js';
import { TelemetryMetrics } from '../../../src/telemetry/metrics/index.js';
import { requestRecord } from '../../helpers/admin-fixture.js';

function populate(registry: AnyRegistry): void {
  const metrics = new TelemetryMetrics({ registry });
  metrics.record(requestRecord({ service: 'reviews', durationMs: 12 }));
  metrics.record(requestRecord({ service: 'ratings', code: 503, durationMs: 80 }));
  metrics.mesh.configUpdate('xds', false);
  new Counter({ name: 'app_jobs_total', help: 'Jobs done.', labelNames: ['kind'], registers: [registry] }).inc({ kind: 'a' }, 2);
  new Gauge({ name: 'app_queue_depth', help: 'Queue depth.', registers: [registry] }).set(4);
  new Histogram({ name: 'app_job_seconds', help: 'Job time.', buckets: [0.1, 1], registers: [registry] }).observe(0.5);
}

test('matches prom-client’s own OpenMetrics rendering of the same metrics', async () => {
  const text = new Registry();
  const open = new Registry<OpenMetricsContentType>();
  open.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  populate(text);
  populate(open);
  const converted = toOpenMetrics(await text.metrics());
  expect(converted).toBe(await open.metrics());
  expect(converted).toContain('# TYPE istio_requests counter\n');
  expect(converted).toContain('# HELP app_jobs Jobs done.\n# TYPE app_jobs counter\napp_jobs_total{kind="a"} 2\n');
});

test('a counter named without _total gets it on its samples; quotes in HELP are escaped', () => {
  const text = '# HELP jobs Jobs "done".\n# TYPE jobs counter\njobs{kind="a"} 2\njobs 3\n\n# HELP odd No type line.\nodd 1\n';
  expect(toOpenMetrics(text)).toBe(
    '# HELP jobs Jobs \\"done\\".\n# TYPE jobs counter\njobs_total{kind="a"} 2\njobs_total 3\n# HELP odd No type line.\nodd 1\n# EOF\n',
  );
});

test('untyped becomes unknown, and empty input is just the terminator', () => {
  expect(toOpenMetrics('# TYPE x untyped\nx 1\n')).toBe('# TYPE x unknown\nx 1\n# EOF\n');
  expect(toOpenMetrics('')).toBe('# EOF\n');
});

test.each([
  [undefined, false],
  ['*/*', false],
  ['text/plain', false],
  ['application/openmetrics-text', true],
  ['application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1', true],
  ['text/plain;q=1, application/openmetrics-text;q=0.5', false],
  ['application/openmetrics-text;q=0, */*', false],
  ['application/openmetrics-text; version=1.0.0; q=0.9, */*;q=0.5', true],
])('prefersOpenMetrics(%j) is %s', (accept, expected) => {
  expect(prefersOpenMetrics(accept)).toBe(expected);
});
