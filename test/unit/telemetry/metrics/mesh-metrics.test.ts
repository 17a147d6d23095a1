import { channel } from 'node:diagnostics_channel';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { CHANNELS, publish } from '../../../../src/telemetry/events.js';
import type { AnyRegistry } from '../../../../src/telemetry/metrics/any-registry.js';
import { MeshMetrics } from '../../../../src/telemetry/metrics/mesh-metrics.js';
import type { EndpointHealthCount, MeshStateSource } from '../../../../src/telemetry/metrics/mesh-state.js';
import { LABEL_OVERFLOW_METRIC } from '../../../../src/telemetry/metrics/overflow-counter.js';
import { TelemetryMetrics } from '../../../../src/telemetry/metrics/telemetry-metrics.js';
import { record, samples, value } from './support.js';

const started: { close(): void }[] = [];

function startedMetrics(opts: ConstructorParameters<typeof MeshMetrics>[0] = {}): MeshMetrics {
  const m = new MeshMetrics(opts);
  m.start();
  started.push(m);
  return m;
}

afterEach(() => {
  for (const m of started.splice(0)) m.close();
});

function send(name: keyof typeof CHANNELS, message: unknown): void {
  channel(CHANNELS[name]).publish(message);
}

async function scrape(registry: AnyRegistry) {
  return samples(await registry.metrics());
}

describe('MeshMetrics: pipeline events', () => {
  it('subscribes only in start() and unsubscribes in close()', async () => {
    const m = new MeshMetrics();
    expect(channel(CHANNELS.retry).hasSubscribers).toBe(false);
    send('retry', { service: 'reviews', reason: '5xx' });
    m.start();
    m.start();
    // Request and config events are left alone: subscribing would make every request build its message.
    const counted = Object.entries(CHANNELS)
      .filter(([key]) => !['requestStart', 'requestEnd', 'configUpdate'].includes(key))
      .map(([, name]) => name);
    for (const name of counted) expect(channel(name).hasSubscribers).toBe(true);
    expect(channel(CHANNELS.requestEnd).hasSubscribers).toBe(false);
    send('retry', { service: 'reviews', reason: '5xx' });
    m.close();
    m.close();
    for (const name of Object.values(CHANNELS)) expect(channel(name).hasSubscribers).toBe(false);
    send('retry', { service: 'reviews', reason: '5xx' });
    expect(value(await scrape(m.registry), 'proxyless_retries_total', { destination_service_name: 'reviews' })).toBe(1);
  });

  it('counts retries by reason and skipped retries by why, budget included', async () => {
    const m = startedMetrics();
    send('retry', { service: 'reviews', route: 'r', attempt: 1, reason: '5xx', delayMs: 25 });
    send('retry', { service: 'reviews', route: 'r', attempt: 2, reason: '5xx', delayMs: 50 });
    send('retry', { service: 'reviews', route: 'r', attempt: 1, reason: 'connect-failure', delayMs: 0 });
    // Through the pipeline's own publish helper, as call.ts sends it.
    publish('retrySkipped', () => ({ service: 'reviews', route: 'r', reason: '5xx', why: 'budget' }));
    send('retrySkipped', { service: 'ratings', route: 'r', reason: 'reset', why: 'non-idempotent' });
    const all = await scrape(m.registry);
    expect(value(all, 'proxyless_retries_total', { destination_service_name: 'reviews', reason: '5xx' })).toBe(2);
    expect(value(all, 'proxyless_retries_total', { reason: 'connect-failure' })).toBe(1);
    expect(value(all, 'proxyless_retries_skipped_total', { destination_service_name: 'reviews', why: 'budget' })).toBe(1);
    expect(value(all, 'proxyless_retries_skipped_total', { destination_service_name: 'ratings', why: 'non-idempotent' })).toBe(1);
  });

  it('counts hedges and local rejections by code', async () => {
    const m = startedMetrics();
    send('hedge', { service: 'reviews', route: 'r', attempt: 1, delayMs: 12 });
    send('rejected', { service: 'reviews', code: 'MESH_OVERFLOW' });
    send('rejected', { service: 'reviews', code: 'MESH_RATE_LIMITED' });
    send('rejected', { service: 'reviews', code: 'MESH_RATE_LIMITED' });
    const all = await scrape(m.registry);
    expect(value(all, 'proxyless_hedges_total', { destination_service_name: 'reviews' })).toBe(1);
    expect(value(all, 'proxyless_local_rejections_total', { code: 'MESH_OVERFLOW' })).toBe(1);
    expect(value(all, 'proxyless_local_rejections_total', { code: 'MESH_RATE_LIMITED' })).toBe(2);
  });

  it('counts ejections and gauges ejected endpoints as ejections minus returns', async () => {
    const m = startedMetrics();
    send('ejection', { service: 'reviews', endpoint: '10.0.0.1:9080', reason: 'consecutive-5xx', untilMs: 30_000 });
    send('ejection', { service: 'reviews', endpoint: '10.0.0.2:9080', reason: 'success-rate', untilMs: 30_000 });
    // A repeated event for an endpoint already out does not count it twice in the gauge.
    send('ejection', { service: 'reviews', endpoint: '10.0.0.2:9080', reason: 'success-rate', untilMs: 60_000 });
    send('ejection', { service: 'ratings', endpoint: '10.0.1.1:9080', reason: 'consecutive-5xx', untilMs: 30_000 });
    send('ejectionReturn', { service: 'reviews', endpoint: '10.0.0.1:9080' });
    send('ejectionReturn', { service: 'reviews', endpoint: '10.0.0.9:9080' });
    let all = await scrape(m.registry);
    expect(value(all, 'proxyless_outlier_ejections_total', { destination_service_name: 'reviews', reason: 'consecutive-5xx' })).toBe(1);
    expect(value(all, 'proxyless_outlier_ejections_total', { destination_service_name: 'reviews', reason: 'success-rate' })).toBe(2);
    expect(value(all, 'proxyless_outlier_ejected_endpoints', { destination_service_name: 'reviews' })).toBe(1);
    expect(value(all, 'proxyless_outlier_ejected_endpoints', { destination_service_name: 'ratings' })).toBe(1);
    send('ejectionReturn', { service: 'ratings', endpoint: '10.0.1.1:9080' });
    all = await scrape(m.registry);
    expect(value(all, 'proxyless_outlier_ejected_endpoints', { destination_service_name: 'ratings' })).toBeUndefined();
  });

  it('follows breaker transitions in a 0/1/2 gauge and counts them by from and to', async () => {
    const m = startedMetrics();
    const state = async () => value(await scrape(m.registry), 'proxyless_circuit_state', { destination_service_name: 'reviews' });
    send('circuit', { service: 'reviews', from: 'closed', to: 'open' });
    expect(await state()).toBe(2);
    send('circuit', { service: 'reviews', from: 'open', to: 'half-open' });
    expect(await state()).toBe(1);
    send('circuit', { service: 'reviews', from: 'half-open', to: 'closed' });
    expect(await state()).toBe(0);
    send('circuit', { service: 'reviews', from: 'closed', to: 'open' });
    const all = await scrape(m.registry);
    expect(value(all, 'proxyless_circuit_transitions_total', { from: 'closed', to: 'open' })).toBe(2);
    expect(value(all, 'proxyless_circuit_transitions_total', { from: 'open', to: 'half-open' })).toBe(1);
  });

  it('reads odd messages as unknown instead of throwing into the publisher', async () => {
    const m = startedMetrics();
    send('retry', null);
    send('rejected', { service: 42, code: undefined });
    send('circuit', { service: 'reviews', to: 'sideways' });
    const all = await scrape(m.registry);
    expect(value(all, 'proxyless_retries_total', { destination_service_name: 'unknown', reason: 'unknown' })).toBe(1);
    expect(value(all, 'proxyless_local_rejections_total', { destination_service_name: '42', code: 'unknown' })).toBe(1);
    expect(value(all, 'proxyless_circuit_state', { destination_service_name: 'reviews' })).toBe(-1);
  });

  it('folds label sets past the cap into overflow and counts the folds', async () => {
    const m = startedMetrics();
    for (let i = 0; i < 1_005; i++) send('hedge', { service: `svc-${i}` });
    const all = await scrape(m.registry);
    expect(all.filter((s) => s.name === 'proxyless_hedges_total')).toHaveLength(1_001);
    expect(value(all, 'proxyless_hedges_total', { destination_service_name: 'overflow' })).toBe(5);
    expect(value(all, LABEL_OVERFLOW_METRIC, { metric: 'proxyless_hedges_total' })).toBe(5);
  });
});

describe('MeshMetrics: state and direct counters', () => {
  it('reads endpoint health from the state source at scrape time only', async () => {
    let reads = 0;
    let endpoints: EndpointHealthCount[] = [
      { service: 'reviews', health: 'healthy', count: 3 },
      { service: 'reviews', health: 'ejected', count: 1 },
      { service: 'ratings', health: 'draining', count: 2 },
      { service: 'ratings', health: 'draining', count: 1 },
    ];
    const state: MeshStateSource = {
      endpoints: () => {
        reads++;
        return endpoints;
      },
    };
    const m = new MeshMetrics({ state });
    expect(reads).toBe(0);
    let all = await scrape(m.registry);
    expect(reads).toBe(1);
    expect(value(all, 'proxyless_endpoints', { destination_service_name: 'reviews', health: 'healthy' })).toBe(3);
    expect(value(all, 'proxyless_endpoints', { destination_service_name: 'reviews', health: 'ejected' })).toBe(1);
    expect(value(all, 'proxyless_endpoints', { destination_service_name: 'ratings', health: 'draining' })).toBe(3);
    endpoints = [{ service: 'reviews', health: 'unhealthy', count: 4 }];
    all = await scrape(m.registry);
    expect(value(all, 'proxyless_endpoints', { destination_service_name: 'reviews', health: 'unhealthy' })).toBe(4);
    expect(value(all, 'proxyless_endpoints', { destination_service_name: 'ratings' })).toBeUndefined();
  });

  it('takes breaker states from the state source when it has them', async () => {
    const m = startedMetrics();
    send('circuit', { service: 'reviews', from: 'closed', to: 'open' });
    m.setStateSource({ endpoints: () => [], circuits: () => [{ service: 'reviews', state: 'half-open' }] });
    expect(value(await scrape(m.registry), 'proxyless_circuit_state', { destination_service_name: 'reviews' })).toBe(1);
  });

  it('counts config updates by source and result, and discovery errors by provider', async () => {
    const m = new MeshMetrics();
    m.configUpdate('xds', true);
    m.configUpdate('xds', true);
    m.configUpdate('file', false);
    m.discoveryError('reviews', 'dns');
    const all = await scrape(m.registry);
    expect(value(all, 'proxyless_config_updates_total', { source: 'xds', result: 'accepted' })).toBe(2);
    expect(value(all, 'proxyless_config_updates_total', { source: 'file', result: 'rejected' })).toBe(1);
    expect(value(all, 'proxyless_discovery_errors_total', { destination_service_name: 'reviews', provider: 'dns' })).toBe(1);
  });

  it('writes HELP and TYPE lines for every metric of its own', async () => {
    const text = await new MeshMetrics().registry.metrics();
    const types: Record<string, string> = {
      proxyless_retries_total: 'counter',
      proxyless_retries_skipped_total: 'counter',
      proxyless_hedges_total: 'counter',
      proxyless_outlier_ejections_total: 'counter',
      proxyless_outlier_ejected_endpoints: 'gauge',
      proxyless_circuit_state: 'gauge',
      proxyless_circuit_transitions_total: 'counter',
      proxyless_local_rejections_total: 'counter',
      proxyless_endpoints: 'gauge',
      proxyless_config_updates_total: 'counter',
      proxyless_discovery_errors_total: 'counter',
      proxyless_metrics_label_overflow_total: 'counter',
    };
    for (const [name, type] of Object.entries(types)) {
      expect(text).toMatch(new RegExp(`^# HELP ${name} \\S.*$`, 'm'));
      expect(text).toContain(`# TYPE ${name} ${type}\n`);
    }
  });
});

describe('TelemetryMetrics', () => {
  it("puts Istio's metrics and the mesh's own on one registry, the caller's when given", async () => {
    const registry = new Registry();
    const t = new TelemetryMetrics({ registry });
    t.start();
    started.push(t);
    t.record(record());
    send('retry', { service: 'reviews', reason: '5xx' });
    const all = await scrape(registry);
    expect(value(all, 'istio_requests_total')).toBe(1);
    expect(value(all, 'proxyless_retries_total')).toBe(1);
  });

  it('gives two meshes two registries that do not collide', async () => {
    const a = new TelemetryMetrics();
    const b = new TelemetryMetrics();
    a.record(record());
    expect(a.registry).not.toBe(b.registry);
    expect(value(await scrape(a.registry), 'istio_requests_total')).toBe(1);
    expect(value(await scrape(b.registry), 'istio_requests_total')).toBeUndefined();
  });
});
