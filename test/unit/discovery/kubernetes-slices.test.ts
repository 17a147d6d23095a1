/** Merging EndpointSlices into one endpoint set: conditions, duplicates, ports, zones and topology hints. */
import { describe, expect, it } from 'vitest';
import { resolvePort } from '../../../src/discovery/kubernetes/ports.js';
import type { EndpointSliceObject } from '../../../src/discovery/kubernetes/resources.js';
import { sliceEndpoints } from '../../../src/discovery/kubernetes/slice-endpoints.js';
import { endpointSlice, service } from '../../helpers/kube-apiserver/fixtures.js';

const slice = (...args: Parameters<typeof endpointSlice>) => endpointSlice(...args) as unknown as EndpointSliceObject;
const keys = (eps: { key: string; health: string; zone: string }[]) =>
  eps.map((e) => `${e.key}${e.health === 'healthy' ? '' : ` ${e.health}`}${e.zone ? ` @${e.zone}` : ''}`);

describe('sliceEndpoints', () => {
  it('merges several slices and counts an address listed twice once, with its best condition', () => {
    const a = slice('r-a', 'r', ['10.0.0.1', { ip: '10.0.0.2', ready: false, serving: true, terminating: true }]);
    const b = slice('r-b', 'r', ['10.0.0.2', '10.0.0.3']);
    expect(keys(sliceEndpoints([a, b], { name: 'http' }, ''))).toEqual(['10.0.0.1:8080', '10.0.0.2:8080', '10.0.0.3:8080']);
  });

  it('uses one address family of a dual-stack Service, so each pod counts once', () => {
    const v4 = slice('r-v4', 'r', ['10.0.0.1']);
    const v6 = { ...slice('r-v6', 'r', ['fd00::1']), addressType: 'IPv6' };
    expect(keys(sliceEndpoints([v6, v4], { name: 'http' }, ''))).toEqual(['10.0.0.1:8080']);
    expect(keys(sliceEndpoints([v6], { name: 'http' }, ''))).toEqual(['[fd00::1]:8080']);
  });

  it('leaves terminating endpoints out while any endpoint is ready, so they get no new requests', () => {
    const s = slice('r-a', 'r', [
      '10.0.0.1',
      { ip: '10.0.0.2', ready: false, serving: true, terminating: true },
      { ip: '10.0.0.3', ready: false, serving: false, terminating: false },
    ]);
    expect(keys(sliceEndpoints([s], { name: 'http' }, ''))).toEqual(['10.0.0.1:8080']);
  });

  it('keeps serving terminating endpoints as draining when nothing is ready (the last resort)', () => {
    const s = slice('r-a', 'r', [
      { ip: '10.0.0.2', ready: false, serving: true, terminating: true },
      { ip: '10.0.0.3', ready: false, serving: false, terminating: true },
      { ip: '10.0.0.4', ready: false, serving: false },
    ]);
    expect(keys(sliceEndpoints([s], { name: 'http' }, ''))).toEqual(['10.0.0.2:8080 draining']);
  });

  it('reads unset conditions as ready, as the API documents', () => {
    const s = { metadata: { name: 'x' }, ports: [{ name: 'http', port: 80 }], endpoints: [{ addresses: ['10.1.1.1'] }] };
    expect(keys(sliceEndpoints([s], { name: 'http' }, ''))).toEqual(['10.1.1.1:80']);
  });

  it('takes each slice\'s own port number for the named port, and skips slices without it', () => {
    const a = slice('r-a', 'r', ['10.0.0.1'], [{ name: 'http', port: 8080 }]);
    const b = slice('r-b', 'r', ['10.0.0.2'], [{ name: 'http', port: 9090 }]);
    const c = slice('r-c', 'r', ['10.0.0.3'], [{ name: 'metrics', port: 9100 }]);
    expect(keys(sliceEndpoints([a, b, c], { name: 'http' }, ''))).toEqual(['10.0.0.1:8080', '10.0.0.2:9090']);
    expect(keys(sliceEndpoints([a, b, c], { number: 9100 }, ''))).toEqual(['10.0.0.3:9100']);
  });

  it('honours topology hints for the local zone only when every ready endpoint has hints', () => {
    const hinted = slice('r-a', 'r', [
      { ip: '10.0.0.1', zone: 'a', hints: ['a'] },
      { ip: '10.0.0.2', zone: 'b', hints: ['b'] },
      { ip: '10.0.0.3', zone: 'b', hints: ['a', 'b'] },
    ]);
    expect(keys(sliceEndpoints([hinted], { name: 'http' }, 'a'))).toEqual(['10.0.0.1:8080 @a', '10.0.0.3:8080 @b']);
    // Unknown local zone, or no endpoint hinted for it: hints are ignored, zones remain for locality.
    expect(sliceEndpoints([hinted], { name: 'http' }, '')).toHaveLength(3);
    expect(sliceEndpoints([hinted], { name: 'http' }, 'c')).toHaveLength(3);
    const partly = slice('r-b', 'r', [{ ip: '10.0.1.1', zone: 'a', hints: ['a'] }, { ip: '10.0.1.2', zone: 'b' }]);
    expect(keys(sliceEndpoints([partly], { name: 'http' }, 'a'))).toEqual(['10.0.1.1:8080 @a', '10.0.1.2:8080 @b']);
  });
});

describe('resolvePort', () => {
  const svc = service('r', [
    { name: 'http', port: 80, targetPort: 'web' },
    { name: 'grpc', port: 9000, targetPort: 50051 },
  ]) as never;
  const slices = [slice('r-a', 'r', ['10.0.0.1'], [{ name: 'http', port: 8080 }, { name: 'grpc', port: 50051 }])];

  it('maps a Service port number, a targetPort number or name, or a port name to the slices\' port name', () => {
    expect(resolvePort({ kind: 'number', port: 80 }, svc, slices)).toEqual({ name: 'http' });
    expect(resolvePort({ kind: 'number', port: 50051 }, svc, slices)).toEqual({ name: 'grpc' });
    expect(resolvePort({ kind: 'name', name: 'web' }, svc, slices)).toEqual({ name: 'http' });
    expect(resolvePort({ kind: 'name', name: 'grpc' }, svc, slices)).toEqual({ name: 'grpc' });
  });

  it('explains a port the Service does not have, or an ambiguous target', () => {
    expect(resolvePort({ kind: 'number', port: 81 }, svc, slices)).toBe('the Service has no port 81 (it has 80, 9000)');
    expect(resolvePort({ kind: 'only' }, svc, slices)).toContain('the Service has 2 ports (http, grpc)');
  });

  it('falls back to the slices when the Service cannot be read', () => {
    expect(resolvePort({ kind: 'number', port: 8080 }, undefined, slices)).toEqual({ number: 8080 });
    expect(resolvePort({ kind: 'name', name: 'http' }, undefined, slices)).toEqual({ name: 'http' });
    expect(resolvePort({ kind: 'only' }, undefined, [slice('x', 'x', ['10.0.0.1'], [{ port: 80 }])])).toEqual({ name: '' });
    expect(resolvePort({ kind: 'only' }, undefined, slices)).toContain('2 ports (http, grpc)');
  });
});
