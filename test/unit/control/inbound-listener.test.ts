/**
 * The control plane's inbound listeners: built per client from its node
 * (namespace, labels), named by address, with the policies that select it,
 * warnings for what gRPC servers cannot evaluate, and a new listener
 * version when only a policy changed.
 */
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/config/file-source.js';
import { validateConfig } from '../../../src/config/validate.js';
import { inboundAddress, workloadOf } from '../../../src/control/inbound-workload.js';
import { buildSnapshot } from '../../../src/control/snapshot.js';
import { decodeInboundListener } from '../../../src/discovery/xds/decode-inbound-listener.js';
import { TYPE_URL, unpackAny } from '../../../src/discovery/xds/envoy-protos.js';

const YAML = `
services: {}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: mesh-deny, namespace: istio-system }
spec: { action: DENY, rules: [{ to: [{ operation: { paths: ["/debug"] } }] }] }
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: shop-jwt, namespace: shop }
spec:
  selector: { matchLabels: { app: cart } }
  action: DENY
  rules: [{ from: [{ source: { notRequestPrincipals: ["*"] } }] }]
`;

const node = (namespace: string, labels: Record<string, string> = {}) => ({
  id: 'x',
  metadata: {
    fields: {
      NAMESPACE: { stringValue: namespace },
      LABELS: { structValue: { fields: Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, { stringValue: v }])) } },
    },
  },
});
const NAME = 'xds.istio.io/grpc/lds/inbound/10.0.0.1:8080';

function policyNames(yaml: string, n: ReturnType<typeof node>): string[] {
  const snapshot = buildSnapshot(validateConfig(parseConfigText(yaml, 't'), 't'), '1');
  const r = snapshot.inbound.resource(NAME, n)!;
  return decodeInboundListener(unpackAny(TYPE_URL.listener, r.any.value)).authorizationPolicies.map((p) => String(p.name));
}

describe('inbound listeners', () => {
  it('parse istiod names, IPv6 included, and nothing else', () => {
    expect(inboundAddress(NAME)).toEqual({ ip: '10.0.0.1', port: 8080 });
    expect(inboundAddress('xds.istio.io/grpc/lds/inbound/[::1]:9000')).toEqual({ ip: '::1', port: 9000 });
    expect(inboundAddress('reviews:9080')).toBeUndefined();
    expect(inboundAddress('xds.istio.io/grpc/lds/inbound/10.0.0.1:99999')).toBeUndefined();
  });

  it('read the workload from node metadata, or from an istio node id', () => {
    expect(workloadOf(node('shop', { app: 'cart' }))).toEqual({ namespace: 'shop', labels: { app: 'cart' } });
    expect(workloadOf({ id: 'sidecar~10.0.0.1~cart-7d9.shop~shop.svc.cluster.local' })).toEqual({ namespace: 'shop', labels: {} });
    expect(workloadOf(null)).toEqual({ namespace: 'default', labels: {} });
  });

  it('carry root-namespace policies everywhere and namespace policies only where their selector matches', () => {
    expect(policyNames(YAML, node('shop', { app: 'cart' }))).toEqual(['mesh-deny', 'shop-jwt']);
    expect(policyNames(YAML, node('shop', { app: 'web' }))).toEqual(['mesh-deny']);
    expect(policyNames(YAML, node('other', { app: 'cart' }))).toEqual(['mesh-deny']);
  });

  it('record what gRPC servers cannot evaluate, per listener and workload', () => {
    const snapshot = buildSnapshot(validateConfig(parseConfigText(YAML, 't'), 't'), '1');
    snapshot.inbound.resource(NAME, node('shop', { app: 'cart' }));
    const warnings = [...snapshot.inbound.warnings.values()].flat();
    expect(warnings.join('\n')).toContain('AuthorizationPolicy shop/shop-jwt.spec.rules[0]: uses requestPrincipals');
    expect(snapshot.inbound.resource('reviews:9080', node('shop'))).toBeUndefined();
  });

  it('get a new listener version when only a policy changed', () => {
    const first = buildSnapshot(validateConfig(parseConfigText(YAML, 't'), 't'), '1');
    const same = buildSnapshot(validateConfig(parseConfigText(YAML, 't'), 't'), '2', first);
    expect(same.typeVersions.get(TYPE_URL.listener)).toBe('1');
    const edited = buildSnapshot(validateConfig(parseConfigText(YAML.replace('/debug', '/metrics'), 't'), 't'), '3', same);
    expect(edited.typeVersions.get(TYPE_URL.listener)).toBe('3');
    expect(edited.typeVersions.get(TYPE_URL.cluster)).toBe('1');
  });
  it('reject a bad PeerAuthentication in any namespace, and never serve a weaker mode for a bad port-level one', () => {
    const bad = `${YAML}---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: typo, namespace: elsewhere }
spec: { mtls: { mode: STRIC } }
`;
    expect(() => validateConfig(parseConfigText(bad, 't'), 't')).toThrow(/PeerAuthentication elsewhere\/typo\)\.spec\.mtls\.mode: must be one of STRICT/);
    const ports = `${YAML}---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: ports, namespace: shop }
spec: { mtls: { mode: STRICT }, portLevelMtls: { "8080": { mode: LOOSE } } }
`;
    const snapshot = buildSnapshot(validateConfig(parseConfigText(ports, 't'), 't'), '1');
    expect(snapshot.inbound.resource(NAME, node('shop'))).toBeUndefined();
    expect([...snapshot.inbound.warnings.values()].flat().join('\n')).toContain('portLevelMtls["8080"].mode: must be one of STRICT, PERMISSIVE, DISABLE, got "LOOSE"');
  });
});
