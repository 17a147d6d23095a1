import { register as globalRegister, type OpenMetricsContentType, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { IstioMetrics } from '../../../../src/telemetry/metrics/istio-metrics.js';
import { find, record, samples, value } from './support.js';

describe('IstioMetrics and prom-client registries', () => {
  it("owns a new Registry by default, not prom-client's global one, so two instances do not collide", async () => {
    const a = new IstioMetrics();
    const b = new IstioMetrics();
    expect(a.registry).not.toBe(b.registry);
    expect(a.registry).not.toBe(globalRegister);
    expect(globalRegister.getSingleMetric('istio_requests_total')).toBeUndefined();
    a.record(record());
    a.record(record());
    b.record(record());
    expect(value(samples(await a.registry.metrics()), 'istio_requests_total')).toBe(2);
    expect(value(samples(await b.registry.metrics()), 'istio_requests_total')).toBe(1);
  });

  it("registers into the caller's Registry, beside the caller's own metrics and default labels", async () => {
    const registry = new Registry();
    registry.setDefaultLabels({ pod: 'reviews-abc' });
    const m = new IstioMetrics({ registry });
    expect(m.registry).toBe(registry);
    expect(registry.getSingleMetric('istio_request_duration_milliseconds')).toBeDefined();
    m.record(record());
    const all = samples(await registry.metrics());
    expect(value(all, 'istio_requests_total', { pod: 'reviews-abc' })).toBe(1);
    // A second IstioMetrics on the same registry is a mistake the registry reports.
    expect(() => new IstioMetrics({ registry })).toThrow(/already been registered/);
  });

  it('answers getMetricsAsJSON with full labels on every sample, and resets with the registry', async () => {
    const m = new IstioMetrics();
    m.record(record({ durationMs: 7 }));
    const json = await m.registry.getMetricsAsJSON();
    const duration = json.find((x) => x.name === 'istio_request_duration_milliseconds')!;
    const le10 = duration.values.find((v) => v.labels.le === 10)!;
    expect(le10.value).toBe(1);
    expect(le10.labels.destination_service_name).toBe('reviews');
    m.registry.resetMetrics();
    expect(find(samples(await m.registry.metrics()), 'istio_requests_total')).toHaveLength(0);
  });

  it('serves OpenMetrics text when the registry asks for it', async () => {
    const registry = new Registry<OpenMetricsContentType>();
    registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    const m = new IstioMetrics({ registry });
    m.record(record());
    const text = await registry.metrics();
    expect(text).toMatch(/^# TYPE istio_requests counter$/m);
    expect(text).toMatch(/^istio_requests_total\{reporter="source",.*\} 1$/m);
    expect(text.endsWith('# EOF\n')).toBe(true);
  });
});
