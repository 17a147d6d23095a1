/**
 * Istio YAML → control plane inbound listener → bytes → our decoder →
 * authorization engine must decide every request exactly as the same YAML
 * read from a file does.
 */
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/config/file-source.js';
import { validateConfig } from '../../../src/config/validate.js';
import { buildSnapshot } from '../../../src/control/snapshot.js';
import type { XdsListener } from '../../../src/discovery/xds/decode-listener.js';
import { decodeResources, decoderFor } from '../../../src/discovery/xds/decode-response.js';
import { TYPE_URL, unpackAny } from '../../../src/discovery/xds/envoy-protos.js';
import { inboundLayer } from '../../../src/discovery/xds/inbound-layer.js';
import type { AuthzRequest } from '../../../src/security/authz/attributes.js';
import { compileAuthorization } from '../../../src/security/authz/compile.js';
import { richPolicies } from '../../helpers/inbound-policies.js';

const POLICIES = richPolicies('reviews');

const WORKLOAD = { namespace: 'shop', labels: { app: 'reviews' } };
const NODE = {
  id: 'reviews-1',
  metadata: { fields: { NAMESPACE: { stringValue: 'shop' }, LABELS: { structValue: { fields: { app: { stringValue: 'reviews' } } } } } },
};
const NAME = 'xds.istio.io/grpc/lds/inbound/10.0.0.7:8080';

function req(over: Partial<AuthzRequest>): AuthzRequest {
  const headers: Record<string, string> = (over as { headers?: Record<string, string> }).headers ?? {};
  return { sourceIp: '10.1.0.1', method: 'GET', path: '/api/x/items', host: 'reviews:8080', port: 8080, header: (n) => headers[n], ...over };
}

const TABLE: [string, AuthzRequest][] = [
  ['frontend GET item', req({ principal: 'cluster.local/ns/shop/sa/frontend' })],
  ['frontend DELETE item', req({ principal: 'cluster.local/ns/shop/sa/frontend', method: 'DELETE' })],
  ['frontend on 9090', req({ principal: 'cluster.local/ns/shop/sa/frontend', port: 9090 })],
  ['prod namespace POST health', req({ principal: 'cluster.local/ns/prod-eu/sa/x', method: 'POST', path: '/health' })],
  ['other namespace', req({ principal: 'cluster.local/ns/dev/sa/x' })],
  ['admin POST', req({ principal: 'cluster.local/ns/shop/sa/frontend', method: 'POST', path: '/admin/users' })],
  ['admin GET', req({ principal: 'cluster.local/ns/shop/sa/frontend', path: '/admin/users' })],
  ['staging header', req({ principal: 'cluster.local/ns/shop/sa/frontend', headers: { 'x-env': 'dev-3' } } as Partial<AuthzRequest>)],
  ['batch on host', req({ principal: 'cluster.local/ns/shop/sa/batch', host: 'reviews.shop.svc.cluster.local:8080', path: '/x' })],
  ['batch from 192.168', req({ principal: 'cluster.local/ns/shop/sa/batch', host: 'reviews.shop.svc.cluster.local', sourceIp: '192.168.1.1' })],
  ['batch other host', req({ principal: 'cluster.local/ns/shop/sa/batch', host: 'other' })],
  ['blocked net', req({ principal: 'cluster.local/ns/shop/sa/frontend', sourceIp: '10.9.3.3' })],
  ['blocked net, ops admin', req({ principal: 'cluster.local/ns/ops/sa/admin', sourceIp: '10.9.3.3', path: '/health' })],
  ['jwt admin', req({ requestPrincipal: 'https://issuer.example/alice', claims: { role: 'admin' }, path: '/y' })],
  ['jwt user', req({ requestPrincipal: 'https://issuer.example/bob', claims: { role: 'user' }, path: '/y' })],
  ['plaintext', req({ path: '/health' })],
];

function served(yaml: string) {
  const config = validateConfig(parseConfigText(yaml, 'test'), 'test');
  const resource = buildSnapshot(config, '1').inbound.resource(NAME, NODE);
  expect(resource).toBeDefined();
  const decoded = decodeResources<unknown>(TYPE_URL.listener, [resource!.any], decoderFor('listener'), () => {});
  expect(decoded.errors).toEqual([]);
  const listener = decoded.received.get(NAME) as XdsListener;
  const layer = inboundLayer(undefined, listener.inbound!);
  return { file: config, xds: validateConfig({ ...layer, mesh: { ...WORKLOAD, ...layer.mesh } }, 'xds'), layer, resource: resource! };
}

describe('inbound listener round trip', () => {
  it('decides a table of requests as the file path does', () => {
    const { file, xds } = served(POLICIES);
    const viaFile = compileAuthorization(file.authorizationPolicies, WORKLOAD);
    const viaXds = compileAuthorization(xds.authorizationPolicies, WORKLOAD);
    const rows = TABLE.map(([label, r]) => [label, viaFile.check(r).allowed, viaXds.check(r).allowed]);
    for (const [label, a, b] of rows) expect({ label, allowed: b }).toEqual({ label, allowed: a });
    // The table exercises both outcomes.
    expect(new Set(rows.map((r) => r[1]))).toEqual(new Set([true, false]));
    // Policies selected for another app are not served.
    expect(xds.authorizationPolicies.map((p) => p.name)).not.toContain('other-app');
  });

  it('carries AUDIT as shadow rules that never change the decision', () => {
    const { xds } = served(POLICIES);
    const audit = xds.authorizationPolicies.filter((p) => p.action === 'AUDIT');
    expect(audit.map((p) => p.name)).toEqual(['audit-all']);
  });

  it('serves the PeerAuthentication mode for the port, port level first', () => {
    const yaml = `${POLICIES}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: mesh, namespace: istio-system }
spec: { mtls: { mode: STRICT } }
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: reviews, namespace: shop }
spec:
  selector: { matchLabels: { app: reviews } }
  portLevelMtls: { "9090": { mode: DISABLE } }
`;
    expect(served(yaml).layer.mesh.security).toEqual({ mtls: { mode: 'STRICT' } });
    const listener = unpackAny(TYPE_URL.listener, served(yaml).resource.any.value) as { filter_chains: unknown[] };
    expect(listener.filter_chains).toHaveLength(1);
    expect(served(POLICIES).layer.mesh.security).toEqual({ mtls: { mode: 'PERMISSIVE' } });
  });

  it('serves RequestAuthentication rules that validate back to the same rules', () => {
    const yaml = `${POLICIES}
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: { name: jwt, namespace: shop }
spec:
  jwtRules:
  - issuer: https://issuer.example
    jwksUri: https://issuer.example/keys
    audiences: [reviews]
    fromHeaders: [{ name: x-token, prefix: "Bearer " }]
    fromParams: [token]
    outputClaimToHeaders: [{ header: x-sub, claim: sub }]
    forwardOriginalToken: true
`;
    const { file, xds } = served(yaml);
    const strip = (rules: unknown) => JSON.parse(JSON.stringify(rules, (k, v) => (k === 'timeoutMs' ? undefined : v)));
    expect(strip(xds.requestAuthentications.map((p) => p.jwtRules))).toEqual(strip(file.requestAuthentications.map((p) => p.jwtRules)));
  });
});
