import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  ACCESS_LOG_FIELDS,
  AccessLog,
  formatAccessLogLine,
  isErrorRecord,
} from '../../../src/telemetry/access-log.js';
import { record } from './metrics/support.js';

afterEach(() => {
  vi.restoreAllMocks();
});

/** Deterministic uniform [0, 1): mulberry32. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function collect(opts: ConstructorParameters<typeof AccessLog>[0] = {}) {
  const lines: string[] = [];
  const log = new AccessLog({ sink: (l) => lines.push(l), ...opts });
  return { log, lines };
}

describe('formatAccessLogLine', () => {
  it('writes every field, in a fixed order, with Envoy-like names', () => {
    const line = formatAccessLogLine(record());
    expect(line).toBe(
      '{"start_time":"2025-01-02T03:04:05.678Z","method":"GET","authority":"reviews:9080","path":"/reviews/0?x=1",' +
        '"protocol":"http","response_code":200,"grpc_status":null,"response_flags":"-","duration":7,' +
        '"bytes_received":120,"bytes_sent":2048,"upstream_host":"10.0.0.7:9080","route_name":"reviews-default",' +
        '"attempts":1,"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","downstream_peer_uri_san":null,' +
        '"upstream_peer_uri_san":"spiffe://cluster.local/ns/bookinfo/sa/reviews","reporter":"source",' +
        '"destination_service":"reviews.bookinfo.svc.cluster.local"}',
    );
    expect(Object.keys(JSON.parse(line))).toEqual([...ACCESS_LOG_FIELDS]);
  });

  it('keeps the order when values are missing, writing null', () => {
    const line = formatAccessLogLine(
      record({ upstreamHost: undefined, route: undefined, traceId: undefined, peerPrincipal: undefined, responseCode: 0 }),
    );
    const parsed = JSON.parse(line);
    expect(Object.keys(parsed)).toEqual([...ACCESS_LOG_FIELDS]);
    expect([parsed.upstream_host, parsed.route_name, parsed.trace_id, parsed.upstream_peer_uri_san]).toEqual([null, null, null, null]);
  });

  it('puts the verified caller in downstream_peer_uri_san on the inbound side', () => {
    const parsed = JSON.parse(formatAccessLogLine(record({ reporter: 'destination', peerPrincipal: 'spiffe://td/ns/a/sa/b' })));
    expect(parsed.downstream_peer_uri_san).toBe('spiffe://td/ns/a/sa/b');
    expect(parsed.upstream_peer_uri_san).toBeNull();
  });

  it('logs gRPC status and rounds the duration to microseconds', () => {
    const parsed = JSON.parse(formatAccessLogLine(record({ protocol: 'grpc', grpcStatus: 14, durationMs: 1.23456789 })));
    expect(parsed.grpc_status).toBe(14);
    expect(parsed.duration).toBe(1.235);
  });

  it('logs the path as-is on one line, escaping what JSON must', () => {
    const path = '/a"b\\c\nd\u2028e\u0000f\u0085g\u2029</script>?q=ü😀&bad=\ud800';
    const line = formatAccessLogLine(record({ path, method: 'GET\r\nX-Injected: 1' }));
    for (const raw of ['\n', '\r', '\u0000', '\u2028', '\u2029', '\u0085']) expect(line.includes(raw), JSON.stringify(raw)).toBe(false);
    const parsed = JSON.parse(line);
    expect(parsed.path).toBe(path);
    expect(parsed.method).toBe('GET\r\nX-Injected: 1');
    expect(line).toContain('\\ud800');
  });

  it('survives an impossible start time', () => {
    expect(JSON.parse(formatAccessLogLine(record({ startTime: Number.NaN }))).start_time).toBeNull();
    expect(JSON.parse(formatAccessLogLine(record({ startTime: 1e20 }))).start_time).toBeNull();
  });
});

describe('AccessLog', () => {
  it('logs every request at the default sample rate without drawing a random number', () => {
    const random = vi.fn(() => 0.99);
    const { log, lines } = collect({ random });
    for (let i = 0; i < 5; i++) log.log(record());
    expect(lines).toHaveLength(5);
    expect(random).not.toHaveBeenCalled();
  });

  it('samples with the random source it is given', () => {
    expect(collect({ sampleRate: 0.25, random: () => 0.3 }).log.log(record())).toBe(false);
    expect(collect({ sampleRate: 0.25, random: () => 0.2 }).log.log(record())).toBe(true);
    expect(collect({ sampleRate: 0, random: () => 0 }).log.log(record())).toBe(false);

    const { log, lines } = collect({ sampleRate: 0.25, random: seeded(42) });
    for (let i = 0; i < 10_000; i++) log.log(record());
    expect(lines.length).toBeGreaterThan(2_300);
    expect(lines.length).toBeLessThan(2_700);
  });

  it('samples with Math.random by default, never crypto', () => {
    const spy = vi.spyOn(Math, 'random').mockReturnValue(0.9);
    const { log, lines } = collect({ sampleRate: 0.5 });
    log.log(record());
    expect(spy).toHaveBeenCalledTimes(1);
    expect(lines).toHaveLength(0);
    const source = readFileSync(new URL('../../../src/telemetry/access-log.ts', import.meta.url), 'utf8');
    expect(source).not.toMatch(/crypto/);
  });

  it('with onlyErrors, logs failed requests only', () => {
    const { log, lines } = collect({ onlyErrors: true });
    const cases = [
      record(),
      record({ responseCode: 204 }),
      record({ responseCode: 404 }),
      record({ responseCode: 503, responseFlags: 'UH' }),
      record({ responseCode: 0, responseFlags: 'UF' }),
      record({ protocol: 'grpc', responseCode: 200, grpcStatus: 14 }),
      record({ protocol: 'grpc', responseCode: 200, grpcStatus: 0 }),
      record({ responseCode: 200, responseFlags: 'DC' }),
    ];
    for (const r of cases) log.log(r);
    expect(lines.map((l) => JSON.parse(l).response_code)).toEqual([404, 503, 0, 200, 200]);
    expect(cases.map(isErrorRecord)).toEqual([false, false, true, true, true, true, false, true]);
  });

  it('writes to stdout, one line each, by default', () => {
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    new AccessLog().log(record());
    expect(write).toHaveBeenCalledTimes(1);
    const text = String(write.mock.calls[0]![0]);
    expect(text.endsWith('}\n')).toBe(true);
    expect(text.indexOf('\n')).toBe(text.length - 1);
  });
});
