import { describe, expect, it } from 'vitest';
import { clientSpan, redactQuery, serverSpan, splitAuthority } from '../../../../src/telemetry/tracing/attributes.js';
import { errorType } from '../../../../src/telemetry/tracing/outcome.js';

describe('span attributes', () => {
  it.each([
    ['reviews:9080', 'http', 'reviews', 9080],
    ['reviews', 'http', 'reviews', 80],
    ['reviews', 'https', 'reviews', 443],
    ['[::1]:8443', 'https', '::1', 8443],
    ['[::1]', 'http', '::1', 80],
    ['host:notaport', 'http', 'host', undefined],
  ])('splits %s (%s)', (authority, scheme, address, port) => {
    expect(splitAuthority(authority, scheme)).toEqual({ address, port });
  });

  it('redacts the query values the conventions name, and nothing else', () => {
    expect(redactQuery('/a?AWSAccessKeyId=AK&x=1&Signature=s&sig=t&X-Goog-Signature=u')).toBe(
      '/a?AWSAccessKeyId=REDACTED&x=1&Signature=REDACTED&sig=REDACTED&X-Goog-Signature=REDACTED',
    );
    expect(redactQuery('/a?signature=lower&x=sig')).toBe('/a?signature=lower&x=sig');
  });

  it('folds an unknown method to _OTHER and keeps the original', () => {
    const { name, attributes } = clientSpan({
      service: 'svc',
      method: 'PURGE',
      scheme: 'http',
      authority: 'svc',
      path: '/',
      protocol: 'http',
    });
    expect(name).toBe('HTTP svc');
    expect(attributes['http.request.method']).toBe('_OTHER');
    expect(attributes['http.request.method_original']).toBe('PURGE');
  });

  it('describes the peer and user agent of an inbound request', () => {
    const { attributes, name } = serverSpan({
      method: 'GET',
      scheme: 'https',
      authority: 'api.example.com',
      path: '/x',
      protocol: 'http',
      route: '/x',
      peerAddress: '10.1.2.3',
      peerPort: 50123,
      userAgent: 'curl/8',
    });
    expect(name).toBe('GET /x');
    expect(attributes).toMatchObject({
      'server.address': 'api.example.com',
      'server.port': 443,
      'client.address': '10.1.2.3',
      'network.peer.port': 50123,
      'user_agent.original': 'curl/8',
      'http.route': '/x',
    });
  });

  it('names errors by their code, else their class', () => {
    expect(errorType(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe('ECONNRESET');
    expect(errorType(new TypeError('x'))).toBe('TypeError');
  });

  it('names a gRPC status error (grpc-js\'s ServiceError shape) by its status name, as the RPC conventions ask', () => {
    const statusError = (code: number) => Object.assign(new Error(`${code}`), { code, details: 'd', metadata: {} });
    expect(errorType(statusError(14))).toBe('UNAVAILABLE');
    expect(errorType(statusError(4))).toBe('DEADLINE_EXCEEDED');
    expect(errorType(statusError(42))).toBe('42');
    // A numeric code alone is not a gRPC status.
    expect(errorType(Object.assign(new RangeError('x'), { code: 14 }))).toBe('RangeError');
  });
});
