import { expect, test } from 'vitest';
import { clustersText, healthFlags } from '../../../src/admin/clusters-text.js';
import { endpoint } from '../../helpers/admin-fixture.js';

test('endpoint health reads as Envoy health_flags', () => {
  expect(healthFlags(endpoint('a:1'))).toBe('healthy');
  expect(healthFlags(endpoint('a:1', { ejected: true, ejectedUntil: 1 }))).toBe('/failed_outlier_check');
  expect(healthFlags(endpoint('a:1', { health: 'unhealthy', ejected: true }))).toBe('/failed_outlier_check/failed_eds_health');
  expect(healthFlags(endpoint('a:1', { health: 'draining' }))).toBe('/eds_status_draining');
});

test('one fact per line, and no value can break a line', () => {
  const text = clustersText(
    [
      {
        service: 'echo',
        namespace: 'default',
        circuit: 'half-open',
        loadBalancer: 'ring-hash',
        discoveryError: 'line one\nline two',
        endpoints: [endpoint('127.0.0.1:9001', { ejected: true, ejectedUntil: 11_500, ewmaMs: 1.23456, warmth: 0.35 })],
      },
    ],
    10_000,
  );
  expect(text.split('\n')).toEqual([
    'echo::namespace::default',
    'echo::load_balancer::ring-hash',
    'echo::circuit::half-open',
    'echo::discovery_error::line one line two',
    'echo::127.0.0.1:9001::weight::1',
    'echo::127.0.0.1:9001::region::eu-west-1',
    'echo::127.0.0.1:9001::zone::eu-west-1a',
    'echo::127.0.0.1:9001::priority::0',
    'echo::127.0.0.1:9001::health_flags::/failed_outlier_check',
    'echo::127.0.0.1:9001::rq_active::0',
    'echo::127.0.0.1:9001::ewma_ms::1.235',
    'echo::127.0.0.1:9001::warmup_percent::35',
    'echo::127.0.0.1:9001::ejected_ms_left::1500',
    '',
  ]);
  expect(clustersText([], 0)).toBe('');
});
