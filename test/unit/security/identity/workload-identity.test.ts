import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../../src/config/config-error.js';
import { resolveWorkloadIdentity } from '../../../../src/security/identity/workload-identity.js';

describe('resolveWorkloadIdentity', () => {
  it('defaults to Istio defaults', () => {
    expect(resolveWorkloadIdentity({}, {})).toEqual({
      trustDomain: 'cluster.local',
      namespace: 'default',
      serviceAccount: 'default',
      spiffeId: 'spiffe://cluster.local/ns/default/sa/default',
    });
  });

  it('reads MESH_* and falls back to POD_NAMESPACE', () => {
    const env = { MESH_TRUST_DOMAIN: 'prod.example', POD_NAMESPACE: 'shop', MESH_SERVICE_ACCOUNT: 'cart' };
    expect(resolveWorkloadIdentity({}, env).spiffeId).toBe('spiffe://prod.example/ns/shop/sa/cart');
    expect(resolveWorkloadIdentity({}, { ...env, MESH_NAMESPACE: 'billing' }).namespace).toBe('billing');
  });

  it('lets options override the environment', () => {
    const id = resolveWorkloadIdentity({ namespace: 'opt' }, { MESH_NAMESPACE: 'env' });
    expect(id.namespace).toBe('opt');
  });

  it('accepts a whole SPIFFE ID, in Istio form or not', () => {
    expect(resolveWorkloadIdentity({ spiffeId: 'spiffe://td/ns/a/sa/b' }, {})).toEqual({
      trustDomain: 'td',
      namespace: 'a',
      serviceAccount: 'b',
      spiffeId: 'spiffe://td/ns/a/sa/b',
    });
    expect(resolveWorkloadIdentity({ spiffeId: 'spiffe://td/payments/web' }, {}).namespace).toBeUndefined();
  });

  it('reports every bad field under the name it came from', () => {
    try {
      resolveWorkloadIdentity({ serviceAccount: 'a b' }, { MESH_TRUST_DOMAIN: 'Upper.Case', POD_NAMESPACE: 'x/y' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const e = err as ConfigError;
      expect(e.code).toBe('MESH_CONFIG_INVALID');
      expect(e.issues.map((i) => i.path)).toEqual(['MESH_TRUST_DOMAIN', 'POD_NAMESPACE', 'identity.serviceAccount']);
      expect(e.source).toBe('env and options');
      expect(e.message).toContain('MESH_TRUST_DOMAIN: the trust domain has an upper-case letter "U"');
    }
  });

  it('rejects a SPIFFE ID that disagrees with the parts given beside it', () => {
    expect(() => resolveWorkloadIdentity({ spiffeId: 'spiffe://td/ns/a/sa/b', namespace: 'c' }, {})).toThrow(
      /identity.namespace: "c" disagrees with identity.spiffeId \("a"\)/,
    );
    expect(() => resolveWorkloadIdentity({ spiffeId: 'spiffe://td' }, {})).toThrow(/needs a path/);
    expect(() => resolveWorkloadIdentity({ spiffeId: 'spiffe://td/a?b' }, {})).toThrow(/identity.spiffeId: a query/);
  });
});
