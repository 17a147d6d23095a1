/**
 * The lookup memories in front of the series index (series-index.ts): a
 * request equal to the last one reuses its series, and nothing remembered
 * outlives a reset or hides a fold from the overflow count.
 */
import { describe, expect, it } from 'vitest';
import { IstioMetrics } from '../../../../src/telemetry/metrics/istio-metrics.js';
import { LABEL_OVERFLOW_METRIC } from '../../../../src/telemetry/metrics/overflow-counter.js';
import { destination, find, PRODUCTPAGE, record, samples, value } from './support.js';

async function all(m: IstioMetrics) {
  return samples(await m.registry.metrics());
}

describe('SeriesIndex memories', () => {
  it('keeps series apart when records alternate, each field differing alone', async () => {
    const m = new IstioMetrics();
    const variants = [
      record(),
      record({ responseCode: 503 }),
      record({ responseFlags: 'UO' }),
      record({ protocol: 'grpc', grpcStatus: 0 }),
      record({ protocol: 'grpc', grpcStatus: 14 }),
      record({ reporter: 'destination' }),
      record({ connectionSecurityPolicy: 'mutual_tls' }),
      record({ source: { ...PRODUCTPAGE, app: 'other' } }),
      record({ destination: destination('ratings') }),
    ];
    for (let round = 0; round < 3; round++) for (const r of variants) m.record(r);
    // Repeats of the same record back to back take the remembered series.
    m.record(variants[1]!);
    m.record(variants[1]!);
    const s = await all(m);
    expect(m.seriesCount).toBe(variants.length);
    expect(value(s, 'istio_requests_total', { response_code: '503' })).toBe(5);
    expect(value(s, 'istio_requests_total', { response_flags: 'UO' })).toBe(3);
    expect(value(s, 'istio_requests_total', { grpc_response_status: '14' })).toBe(3);
    expect(value(s, 'istio_requests_total', { source_app: 'other' })).toBe(3);
    expect(value(s, 'istio_requests_total', { destination_service_name: 'ratings' })).toBe(3);
    expect(find(s, 'istio_requests_total').reduce((a, x) => a + x.value, 0)).toBe(3 * variants.length + 2);
  });

  it('treats an empty flag string as "-" after a "-" record, and a "-" after an empty one', async () => {
    const m = new IstioMetrics();
    m.record(record({ responseFlags: '-' }));
    m.record(record({ responseFlags: '' }));
    m.record(record({ responseFlags: '-' }));
    expect(m.seriesCount).toBe(1);
    expect(value(await all(m), 'istio_requests_total', { response_flags: '-' })).toBe(3);
  });

  it('forgets the remembered series on reset: the same record starts a new series at 1', async () => {
    const m = new IstioMetrics();
    const r = record();
    m.record(r);
    m.record(r);
    m.registry.resetMetrics();
    expect(m.seriesCount).toBe(0);
    m.record(r);
    expect(m.seriesCount).toBe(1);
    expect(value(await all(m), 'istio_requests_total')).toBe(1);
    // A record from the same pair with other values after the reset finds no stale row either.
    m.registry.resetMetrics();
    m.record(record({ responseCode: 404 }));
    m.record(r);
    expect(m.seriesCount).toBe(2);
  });

  it("keeps a service's inbound and outbound records apart as they alternate, and forgets both on reset", async () => {
    const m = new IstioMetrics();
    const inbound = record({ reporter: 'destination' });
    const outbound = record({ reporter: 'source', destination: destination('ratings') });
    for (let i = 0; i < 4; i++) {
      m.record(inbound);
      m.record(outbound);
    }
    let s = await all(m);
    expect(value(s, 'istio_requests_total', { reporter: 'destination' })).toBe(4);
    expect(value(s, 'istio_requests_total', { reporter: 'source', destination_service_name: 'ratings' })).toBe(4);
    // Each reporter's remembered series must go: one left behind would take counts no scrape sees.
    m.registry.resetMetrics();
    m.record(outbound);
    m.record(inbound);
    s = await all(m);
    expect(m.seriesCount).toBe(2);
    expect(value(s, 'istio_requests_total', { reporter: 'destination' })).toBe(1);
    expect(value(s, 'istio_requests_total', { reporter: 'source' })).toBe(1);
  });

  it('counts every fold, even of a record repeated back to back', async () => {
    const m = new IstioMetrics({ maxSeries: 1 });
    m.record(record());
    const over = record({ destination: destination('ratings') });
    m.record(over);
    m.record(over);
    m.record(over);
    const s = await all(m);
    expect(value(s, LABEL_OVERFLOW_METRIC, { metric: 'istio_requests_total' })).toBe(3);
    expect(value(s, 'istio_requests_total', { destination_service_name: 'overflow' })).toBe(3);
    // The series under the cap is still found after folds.
    m.record(record());
    expect(value(await all(m), 'istio_requests_total', { destination_service_name: 'reviews' })).toBe(2);
  });

  it('gives a NaN code its one exact series, never the remembered one', async () => {
    const m = new IstioMetrics();
    m.record(record());
    m.record(record({ responseCode: Number.NaN }));
    m.record(record({ responseCode: Number.NaN }));
    const s = await all(m);
    expect(m.seriesCount).toBe(2);
    expect(value(s, 'istio_requests_total', { response_code: 'NaN' })).toBe(2);
    expect(value(s, 'istio_requests_total', { response_code: '200' })).toBe(1);
  });
});
