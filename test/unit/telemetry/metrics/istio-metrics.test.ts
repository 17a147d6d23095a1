import { describe, expect, it } from 'vitest';
import {
  ISTIO_BYTES_BUCKETS,
  ISTIO_DURATION_BUCKETS_MS,
  ISTIO_LABEL_NAMES,
  ISTIO_METRIC_NAMES,
} from '../../../../src/telemetry/metrics/istio-labels.js';
import { IstioMetrics } from '../../../../src/telemetry/metrics/istio-metrics.js';
import { LABEL_OVERFLOW_METRIC } from '../../../../src/telemetry/metrics/overflow-counter.js';
import { destination, find, PRODUCTPAGE, REVIEWS, record, samples, value } from './support.js';

const HISTOGRAMS = [ISTIO_METRIC_NAMES.duration, ISTIO_METRIC_NAMES.requestBytes, ISTIO_METRIC_NAMES.responseBytes];

async function scrape(m: IstioMetrics) {
  const text = await m.registry.metrics();
  return { text, all: samples(text) };
}

describe('IstioMetrics', () => {
  it('exposes the four Istio metrics with HELP and TYPE lines', async () => {
    const m = new IstioMetrics();
    m.record(record());
    const { text } = await scrape(m);
    expect(text).toMatch(/^# HELP istio_requests_total \S.*$/m);
    expect(text).toMatch(/^# TYPE istio_requests_total counter$/m);
    for (const name of HISTOGRAMS) {
      expect(text).toMatch(new RegExp(`^# HELP ${name} \\S.*$`, 'm'));
      expect(text).toMatch(new RegExp(`^# TYPE ${name} histogram$`, 'm'));
    }
  });

  it("carries Istio's full label set, in Istio's order, filled from the record", async () => {
    const m = new IstioMetrics();
    m.record(record({ connectionSecurityPolicy: 'mutual_tls', reporter: 'destination' }));
    const { all } = await scrape(m);
    const [sample] = find(all, 'istio_requests_total');
    expect(Object.keys(sample!.labels)).toEqual([...ISTIO_LABEL_NAMES]);
    expect(sample!.labels).toEqual({
      reporter: 'destination',
      source_workload: 'productpage-v1',
      source_workload_namespace: 'bookinfo',
      source_principal: PRODUCTPAGE.principal,
      source_app: 'productpage',
      source_version: 'v1',
      source_canonical_service: 'productpage',
      source_canonical_revision: 'v1',
      source_cluster: 'Kubernetes',
      destination_workload: 'reviews-v2',
      destination_workload_namespace: 'bookinfo',
      destination_principal: REVIEWS.principal,
      destination_app: 'reviews',
      destination_version: 'v2',
      destination_service: 'reviews.bookinfo.svc.cluster.local',
      destination_service_name: 'reviews',
      destination_service_namespace: 'bookinfo',
      destination_canonical_service: 'reviews',
      destination_canonical_revision: 'v2',
      destination_cluster: 'Kubernetes',
      request_protocol: 'http',
      response_flags: '-',
      connection_security_policy: 'mutual_tls',
      response_code: '200',
      grpc_response_status: '',
    });
    // Histogram samples carry the same labels plus `le`.
    const bucket = find(all, 'istio_request_duration_milliseconds_bucket', { le: '10' })[0]!;
    expect(Object.keys(bucket.labels)).toEqual(['le', ...ISTIO_LABEL_NAMES]);
  });

  it('counts N records, and every histogram counts N too', async () => {
    const m = new IstioMetrics();
    const n = 37;
    for (let i = 0; i < n; i++) m.record(record({ durationMs: i }));
    const { all } = await scrape(m);
    expect(value(all, 'istio_requests_total')).toBe(n);
    for (const name of HISTOGRAMS) {
      expect(value(all, `${name}_count`)).toBe(n);
      expect(value(all, `${name}_bucket`, { le: '+Inf' })).toBe(n);
    }
    expect(value(all, 'istio_request_duration_milliseconds_sum')).toBe((n * (n - 1)) / 2);
    expect(m.seriesCount).toBe(1);
  });

  it("buckets durations in milliseconds on Istio's bounds: 7 ms is in le=10 and above, not le=5", async () => {
    const m = new IstioMetrics();
    m.record(record({ durationMs: 7 }));
    const { all } = await scrape(m);
    const buckets = find(all, 'istio_request_duration_milliseconds_bucket');
    expect(buckets.map((b) => b.labels.le)).toEqual([...ISTIO_DURATION_BUCKETS_MS.map(String), '+Inf']);
    expect(ISTIO_DURATION_BUCKETS_MS).toEqual([
      0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000,
    ]);
    for (const b of buckets) {
      const le = b.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(b.labels.le);
      expect(b.value, `le=${b.labels.le}`).toBe(le >= 10 ? 1 : 0);
    }
    expect(value(all, 'istio_request_duration_milliseconds_sum')).toBe(7);
  });

  it('counts a value equal to a bound in that bucket (le is inclusive)', async () => {
    const m = new IstioMetrics();
    m.record(record({ durationMs: 5 }));
    const { all } = await scrape(m);
    expect(value(all, 'istio_request_duration_milliseconds_bucket', { le: '5' })).toBe(1);
    expect(value(all, 'istio_request_duration_milliseconds_bucket', { le: '1' })).toBe(0);
  });

  it('records request and response sizes in bytes', async () => {
    const m = new IstioMetrics();
    m.record(record({ requestBytes: 120, responseBytes: 2048 }));
    m.record(record({ requestBytes: 0, responseBytes: 5_000_000 }));
    const { all } = await scrape(m);
    const req = (le: string) => value(all, 'istio_request_bytes_bucket', { le });
    const res = (le: string) => value(all, 'istio_response_bytes_bucket', { le });
    expect(find(all, 'istio_request_bytes_bucket').map((b) => b.labels.le)).toEqual([...ISTIO_BYTES_BUCKETS.map(String), '+Inf']);
    expect([req('0.5'), req('100'), req('250'), req('+Inf')]).toEqual([1, 1, 2, 2]);
    expect([res('1000'), res('2500'), res('3600000'), res('+Inf')]).toEqual([0, 1, 1, 2]);
    expect(value(all, 'istio_request_bytes_sum')).toBe(120);
    expect(value(all, 'istio_response_bytes_sum')).toBe(5_002_048);
  });

  it('keeps source- and destination-reported requests in separate series', async () => {
    const m = new IstioMetrics();
    for (let i = 0; i < 3; i++) m.record(record({ reporter: 'source' }));
    for (let i = 0; i < 5; i++) m.record(record({ reporter: 'destination', connectionSecurityPolicy: 'mutual_tls' }));
    const { all } = await scrape(m);
    expect(value(all, 'istio_requests_total', { reporter: 'source' })).toBe(3);
    expect(value(all, 'istio_requests_total', { reporter: 'destination' })).toBe(5);
    expect(value(all, 'istio_request_duration_milliseconds_count', { reporter: 'destination' })).toBe(5);
  });

  it('splits series by code, flags and gRPC status, and writes gRPC status only for gRPC', async () => {
    const m = new IstioMetrics();
    m.record(record({ responseCode: 503, responseFlags: 'UO' }));
    m.record(record({ responseCode: 503, responseFlags: 'UO' }));
    m.record(record({ protocol: 'grpc', responseCode: 200, grpcStatus: 14 }));
    m.record(record({ responseFlags: '' }));
    m.record(record());
    const { all } = await scrape(m);
    expect(value(all, 'istio_requests_total', { response_code: '503', response_flags: 'UO' })).toBe(2);
    expect(value(all, 'istio_requests_total', { request_protocol: 'grpc', grpc_response_status: '14' })).toBe(1);
    // An empty flag string is Envoy's '-': the same series, not a duplicate.
    expect(value(all, 'istio_requests_total', { response_code: '200', request_protocol: 'http' })).toBe(2);
    expect(m.seriesCount).toBe(3);
  });

  it('keeps exact series for values outside the types (the string-keyed path)', async () => {
    const m = new IstioMetrics();
    const odd = [
      record({ responseCode: 1234 }),
      record({ responseCode: 200.5 }),
      record({ protocol: 'grpc', grpcStatus: 99 }),
      record({ reporter: 'waypoint' as never }),
      record({ connectionSecurityPolicy: 'permissive' as never }),
    ];
    for (const r of [...odd, ...odd]) m.record(r);
    // More distinct flag strings than the fast path numbers.
    for (let i = 0; i < 300; i++) m.record(record({ responseFlags: `F${i}` }));
    m.record(record({ responseFlags: 'F299' }));
    const { all } = await scrape(m);
    expect(value(all, 'istio_requests_total', { response_code: '1234' })).toBe(2);
    expect(value(all, 'istio_requests_total', { response_code: '200.5' })).toBe(2);
    expect(value(all, 'istio_requests_total', { grpc_response_status: '99' })).toBe(2);
    expect(value(all, 'istio_requests_total', { reporter: 'waypoint' })).toBe(2);
    expect(value(all, 'istio_requests_total', { connection_security_policy: 'permissive' })).toBe(2);
    expect(value(all, 'istio_requests_total', { response_flags: 'F0' })).toBe(1);
    expect(value(all, 'istio_requests_total', { response_flags: 'F299' })).toBe(2);
    expect(m.seriesCount).toBe(5 + 300);
  });

  it('reuses a series for a fresh label object with the same content', async () => {
    const m = new IstioMetrics();
    m.record(record());
    m.record(record({ source: { ...PRODUCTPAGE }, destination: { ...REVIEWS } }));
    const { all } = await scrape(m);
    expect(value(all, 'istio_requests_total')).toBe(2);
    expect(m.seriesCount).toBe(1);
  });

  it('folds label sets past the cap into a response_code-only overflow series and counts the folds', async () => {
    const m = new IstioMetrics({ maxSeries: 5 });
    for (let i = 0; i < 8; i++) {
      m.record(record({ destination: destination(`svc-${i}`) }));
      m.record(record({ destination: destination(`svc-${i}`), responseCode: 500 }));
    }
    const { all } = await scrape(m);
    const series = find(all, 'istio_requests_total');
    // svc-0..svc-1 (both codes) and svc-2 (200) fill the cap; svc-2's 500 and
    // all of svc-3..svc-7 fold into (source, 500) and (source, 200).
    expect(series).toHaveLength(7);
    expect(series.reduce((a, s) => a + s.value, 0)).toBe(16);
    const overflow = find(all, 'istio_requests_total', { destination_service_name: 'overflow' });
    expect(overflow.map((s) => [s.labels.response_code, s.value])).toEqual([
      ['500', 6],
      ['200', 5],
    ]);
    expect(overflow[0]!.labels.reporter).toBe('source');
    expect(overflow[0]!.labels.source_workload).toBe('overflow');
    expect(Object.keys(overflow[0]!.labels)).toEqual([...ISTIO_LABEL_NAMES]);
    expect(value(all, LABEL_OVERFLOW_METRIC, { metric: 'istio_requests_total' })).toBe(11);
    expect(value(all, 'istio_request_duration_milliseconds_count', { destination_service_name: 'overflow', response_code: '200' })).toBe(5);
  });

  it('holds at most 10,000 label sets by default', async () => {
    const m = new IstioMetrics();
    for (let i = 0; i < 10_050; i++) m.record(record({ destination: destination(`svc-${i}`) }));
    expect(m.seriesCount).toBe(10_001);
    const overflow = samples(await m.registry.getSingleMetricAsString(LABEL_OVERFLOW_METRIC));
    expect(value(overflow, LABEL_OVERFLOW_METRIC)).toBe(50);
  });

  it('escapes label values and treats bad sizes and durations as 0', async () => {
    const m = new IstioMetrics();
    const odd = { ...PRODUCTPAGE, workload: 'we"ird\\name\nx' };
    m.record(record({ source: odd, durationMs: Number.NaN, requestBytes: -5, responseBytes: Number.POSITIVE_INFINITY }));
    const { all } = await scrape(m);
    expect(value(all, 'istio_requests_total', { source_workload: 'we\\"ird\\\\name\\nx' })).toBe(1);
    expect(value(all, 'istio_request_duration_milliseconds_sum')).toBe(0);
    expect(value(all, 'istio_request_bytes_bucket', { le: '0.5' })).toBe(1);
    expect(value(all, 'istio_response_bytes_sum')).toBe(0);
  });
});
