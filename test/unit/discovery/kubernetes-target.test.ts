/** `k8s:` target syntax. */
import { describe, expect, it } from 'vitest';
import { parseKubeTarget } from '../../../src/discovery/kubernetes/target.js';

const parse = (path: string, defaultPort?: number) =>
  parseKubeTarget({ uri: `k8s:${path}`, path, service: 'svc', namespace: 'shop', defaultPort });

describe('parseKubeTarget', () => {
  it('reads service, namespace and port in every accepted spelling', () => {
    expect(parse('reviews')).toEqual({ service: 'reviews', namespace: 'shop', port: { kind: 'only' } });
    expect(parse('reviews', 9080)).toEqual({ service: 'reviews', namespace: 'shop', port: { kind: 'number', port: 9080 } });
    expect(parse('reviews:http')).toEqual({ service: 'reviews', namespace: 'shop', port: { kind: 'name', name: 'http' } });
    expect(parse('reviews.bookinfo:9080')).toEqual({ service: 'reviews', namespace: 'bookinfo', port: { kind: 'number', port: 9080 } });
    expect(parse('reviews.bookinfo.svc:http')).toMatchObject({ service: 'reviews', namespace: 'bookinfo' });
    expect(parse('reviews.bookinfo.svc.cluster.local:http')).toMatchObject({ service: 'reviews', namespace: 'bookinfo' });
    expect(parse('///reviews.bookinfo:http')).toMatchObject({ service: 'reviews', namespace: 'bookinfo' });
  });

  it('says what is wrong with a target it cannot use', () => {
    expect(parse('')).toContain('has no Service name');
    expect(parse('Reviews')).toContain('"Reviews" is not a Service name');
    expect(parse('reviews.Bad_NS')).toContain('"Bad_NS" is not a namespace name');
    expect(parse('reviews.ns.cluster.local')).toContain('is not service, service.namespace or service.namespace.svc');
    expect(parse('reviews:0')).toContain('"0" is not a port from 1 to 65535');
    expect(parse('reviews:a_very_long_port_name')).toContain('is not a port number or a port name');
    expect(parse('//api-server/reviews')).toContain('names an authority ("api-server")');
  });
});
