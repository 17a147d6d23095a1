/**
 * Which policies reach a workload: its namespace and selector, or the root
 * namespace for the whole mesh; rules of every applicable policy combine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appliesTo } from '../../../../src/security/jwt/applicability.js';
import { compileRequestAuthentication } from '../../../../src/security/jwt/authenticator.js';
import { JwksCache } from '../../../../src/security/jwt/jwks-cache.js';
import type { RequestAuthenticationPolicy } from '../../../../src/security/jwt/model.js';
import { parseRequestAuthenticationYaml } from '../../../../src/security/jwt/parse.js';
import { bearer, jwksText, makeKey, memoryLogger, sign, type TestKey } from './helpers.js';

let key: TestKey;
let policies: RequestAuthenticationPolicy[];
const cache = new JwksCache({ logger: memoryLogger() });

function resource(name: string, namespace: string, issuer: string, spec = ''): string {
  return `apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: { name: ${name}, namespace: ${namespace} }
spec:
${spec}  jwtRules:
  - issuer: ${issuer}
    jwks: '${jwksText(key)}'
`;
}

beforeAll(async () => {
  key = await makeKey('ES256', 'k');
  policies = parseRequestAuthenticationYaml(
    [
      resource('ns-wide', 'shop', 'https://ns.example.com'),
      resource('reviews-only', 'shop', 'https://reviews.example.com', '  selector: { matchLabels: { app: reviews } }\n'),
      resource('mesh-wide', 'istio-system', 'https://mesh.example.com'),
      resource('mesh-v2', 'istio-system', 'https://v2.example.com', '  selector: { matchLabels: { version: v2 } }\n'),
      resource('elsewhere', 'billing', 'https://billing.example.com'),
      resource('gateway', 'shop', 'https://gw.example.com', '  targetRef: { kind: Gateway, group: gateway.networking.k8s.io, name: gw }\n'),
      resource('custom-root', 'mesh-root', 'https://root.example.com'),
    ].join('---\n'),
  );
});
afterAll(() => cache.close());

function applied(namespace: string, labels: Record<string, string>, rootNamespace?: string): string[] {
  const options = rootNamespace === undefined ? { namespace, labels, jwks: cache } : { namespace, labels, rootNamespace, jwks: cache };
  return [...compileRequestAuthentication(policies, options).policies];
}

describe('applicability', () => {
  it('same namespace without selector, matching selector, and the root namespace', () => {
    expect(applied('shop', { app: 'reviews', version: 'v1' })).toEqual([
      'shop/ns-wide',
      'shop/reviews-only',
      'istio-system/mesh-wide',
    ]);
  });

  it('a selector must match every label it names', () => {
    expect(applied('shop', { app: 'ratings', version: 'v2' })).toEqual(['shop/ns-wide', 'istio-system/mesh-wide', 'istio-system/mesh-v2']);
  });

  it('a root-namespace policy reaches every namespace; other namespaces do not', () => {
    expect(applied('payments', {})).toEqual(['istio-system/mesh-wide']);
    expect(applied('billing', {})).toEqual(['istio-system/mesh-wide', 'billing/elsewhere']);
  });

  it('honours a custom root namespace', () => {
    expect(applied('payments', {}, 'mesh-root')).toEqual(['mesh-root/custom-root']);
  });

  it('never applies gateway-bound (targetRef) policies to a workload', () => {
    const gateway = policies.find((p) => p.name === 'gateway')!;
    expect(appliesTo(gateway, { namespace: 'shop', labels: {}, rootNamespace: 'istio-system' })).toBe(false);
  });

  it('combines the rules of every applicable policy', async () => {
    const authn = compileRequestAuthentication(policies, { namespace: 'shop', labels: { app: 'reviews' }, jwks: cache });
    for (const iss of ['https://ns.example.com', 'https://reviews.example.com', 'https://mesh.example.com']) {
      expect((await authn.authenticate(bearer(await sign(key, { iss })))).principal).toBe(`${iss}/alice`);
    }
    const billing = authn.authenticate(bearer(await sign(key, { iss: 'https://billing.example.com' })));
    await expect(billing).rejects.toMatchObject({ code: 'MESH_UNAUTHENTICATED', details: { reason: 'unknown_issuer' } });
  });
});
