import { describe, expect, it } from 'vitest';
import { isMeshError } from '../../../../src/errors.js';
import {
  checkSpiffeId,
  formatIstioSpiffeId,
  istioIdentityOf,
  parseSpiffeId,
} from '../../../../src/security/identity/spiffe.js';

const longTd = 'a'.repeat(256);
const longPath = `spiffe://example.org/${'a'.repeat(2048)}`;

describe('checkSpiffeId', () => {
  it.each([
    ['spiffe://cluster.local/ns/default/sa/reviews', 'cluster.local', '/ns/default/sa/reviews'],
    ['spiffe://example.org', 'example.org', ''],
    ['spiffe://example.org/A-Z_a.z-0_9', 'example.org', '/A-Z_a.z-0_9'],
    ['spiffe://trust_domain-1.example/path/...x', 'trust_domain-1.example', '/path/...x'],
    ['spiffe://1.2.3.4/workload', '1.2.3.4', '/workload'],
    [`spiffe://${'a'.repeat(255)}/x`, 'a'.repeat(255), '/x'],
  ])('accepts %s', (text, trustDomain, path) => {
    const result = checkSpiffeId(text);
    expect(result).toEqual({ ok: true, id: { uri: text, trustDomain, path, segments: path === '' ? [] : path.slice(1).split('/') } });
  });

  it.each([
    ['', 'the ID is empty'],
    ['http://example.org/x', 'must start with "spiffe://"'],
    ['SPIFFE://example.org/x', 'scheme must be written in lower case'],
    ['spiffe:/example.org/x', 'must start with "spiffe://"'],
    ['spiffe:///x', 'the trust domain is missing'],
    ['spiffe://', 'the trust domain is missing'],
    ['spiffe://Example.org/x', 'upper-case letter "E" at index 0'],
    ['spiffe://example.org:8080/x', 'port'],
    ['spiffe://user@example.org/x', 'userinfo'],
    ['spiffe://exa mple.org/x', 'a space at index 3'],
    ['spiffe://exa%41mple.org/x', 'percent-encoding'],
    ['spiffe://éxample.org/x', 'non-ASCII character'],
    ['spiffe://example.org/x?query=1', 'a query ("?" at index 22) is not allowed'],
    ['spiffe://example.org/x#frag', 'a fragment ("#" at index 22) is not allowed'],
    ['spiffe://example.org/', 'the path ends with "/"'],
    ['spiffe://example.org/ns/', 'the path ends with "/"'],
    ['spiffe://example.org//x', 'path segment 1 is empty'],
    ['spiffe://example.org/a//b', 'path segment 2 is empty'],
    ['spiffe://example.org/./x', 'path segment 1 (".")'],
    ['spiffe://example.org/a/..', 'path segment 2 ("..")'],
    ['spiffe://example.org/a%20b', 'percent-encoding at index 1'],
    ['spiffe://example.org/a b', 'a space at index 1'],
    ['spiffe://example.org/a:b', '":" at index 1 is not allowed'],
    ['spiffe://example.org/a\u0000b', 'control character U+0000'],
    [`spiffe://${longTd}/x`, 'the limit is 255'],
    [longPath, 'the limit is 2048'],
  ])('rejects %j: %s', (text, reason) => {
    const result = checkSpiffeId(text);
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.reason).toContain(reason);
  });
});

describe('parseSpiffeId', () => {
  it('throws a MeshError naming the argument, the input and the reason', () => {
    try {
      parseSpiffeId('spiffe://Cluster.local/ns/a/sa/b', 'peer ID');
      expect.unreachable();
    } catch (err) {
      expect(isMeshError(err)).toBe(true);
      expect((err as { code: string }).code).toBe('MESH_INVALID_ARGUMENT');
      expect((err as Error).message).toBe(
        'invalid peer ID "spiffe://Cluster.local/ns/a/sa/b": the trust domain has an upper-case letter "C" at index 0; trust domains are lower case',
      );
    }
  });
});

describe('Istio form', () => {
  it('formats and reads back', () => {
    const uri = formatIstioSpiffeId({ trustDomain: 'cluster.local', namespace: 'prod', serviceAccount: 'reviews' });
    expect(uri).toBe('spiffe://cluster.local/ns/prod/sa/reviews');
    expect(istioIdentityOf(parseSpiffeId(uri))).toEqual({
      trustDomain: 'cluster.local',
      namespace: 'prod',
      serviceAccount: 'reviews',
    });
  });

  it('is undefined for other path shapes', () => {
    expect(istioIdentityOf(parseSpiffeId('spiffe://example.org/payments/web'))).toBeUndefined();
    expect(istioIdentityOf(parseSpiffeId('spiffe://example.org/ns/a/sa/b/extra'))).toBeUndefined();
  });

  it('refuses parts that are not valid segments, naming each', () => {
    expect(() => formatIstioSpiffeId({ trustDomain: 'Bad', namespace: 'a/b', serviceAccount: '..' })).toThrow(
      /trust domain: .*upper-case.*namespace "a\/b": "\/" at index 1.*service account "..": the segment is ".."/,
    );
  });
});
