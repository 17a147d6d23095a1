/**
 * RequestAuthentication config: Istio resources verbatim (as kubectl prints
 * them) and our compact form produce the same model.
 */
import { describe, expect, it } from 'vitest';
import type { RequestAuthenticationPolicy } from '../../../../src/security/jwt/model.js';
import { parseRequestAuthenticationYaml, validateRequestAuthentications } from '../../../../src/security/jwt/parse.js';

const ISTIO_YAML = `
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata:
  name: httpbin
  namespace: foo
  uid: 0b5e0f4e-0000-4000-8000-000000000000
  resourceVersion: "1234"
  generation: 2
  creationTimestamp: "2024-01-01T00:00:00Z"
spec:
  selector:
    matchLabels:
      app: httpbin
  jwtRules:
  - issuer: "issuer-foo"
    jwksUri: https://example.com/.well-known/jwks.json
    audiences: [bookstore_android.apps.example.com, bookstore_web.apps.example.com]
    fromHeaders:
    - name: X-Jwt-Assertion
      prefix: "Token "
    fromParams: [my_token]
    fromCookies: [session]
    outputPayloadToHeader: X-Jwt-Payload
    forwardOriginalToken: true
    outputClaimToHeaders:
    - header: X-Jwt-Sub
      claim: sub
    timeout: 1.5s
status:
  conditions: []
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: require-jwt
  namespace: foo
spec:
  rules:
  - from:
    - source:
        requestPrincipals: ["*"]
---
apiVersion: security.istio.io/v1beta1
kind: RequestAuthentication
metadata:
  name: req-authn-for-all
  namespace: istio-system
spec:
  jwtRules:
  - issuer: https://accounts.example.com
`;

const FULL_RULE = {
  issuer: 'issuer-foo',
  audiences: ['bookstore_android.apps.example.com', 'bookstore_web.apps.example.com'],
  jwksUri: 'https://example.com/.well-known/jwks.json',
  jwks: undefined,
  fromHeaders: [{ name: 'x-jwt-assertion', prefix: 'Token ' }],
  fromParams: ['my_token'],
  fromCookies: ['session'],
  outputPayloadToHeader: 'x-jwt-payload',
  forwardOriginalToken: true,
  outputClaimToHeaders: [{ header: 'x-jwt-sub', claim: 'sub' }],
  timeoutMs: 1500,
};

const MESH_WIDE: RequestAuthenticationPolicy = {
  name: 'req-authn-for-all',
  namespace: 'istio-system',
  selector: undefined,
  targetsGateways: false,
  jwtRules: [
    {
      issuer: 'https://accounts.example.com',
      audiences: [],
      jwksUri: undefined,
      jwks: undefined,
      fromHeaders: [],
      fromParams: [],
      fromCookies: [],
      outputPayloadToHeader: undefined,
      forwardOriginalToken: false,
      outputClaimToHeaders: [],
      timeoutMs: undefined,
    },
  ],
};

describe('valid config', () => {
  it('reads Istio resources from multi-document YAML, skipping other kinds', () => {
    expect(parseRequestAuthenticationYaml(ISTIO_YAML, { source: 'file authn.yaml' })).toEqual([
      { name: 'httpbin', namespace: 'foo', selector: { app: 'httpbin' }, targetsGateways: false, jwtRules: [FULL_RULE] },
      MESH_WIDE,
    ]);
  });

  it('maps the compact form to the same model', () => {
    const compact = `
requestAuthentications:
- name: httpbin
  namespace: foo
  selector: { app: httpbin }
  jwtRules:
  - issuer: "issuer-foo"
    jwksUri: https://example.com/.well-known/jwks.json
    audiences: [bookstore_android.apps.example.com, bookstore_web.apps.example.com]
    fromHeaders: [{ name: X-Jwt-Assertion, prefix: "Token " }]
    fromParams: [my_token]
    fromCookies: [session]
    outputPayloadToHeader: X-Jwt-Payload
    forwardOriginalToken: true
    outputClaimToHeaders: [{ header: X-Jwt-Sub, claim: sub }]
    timeout: 1500
- namespace: istio-system
  jwtRules:
  - issuer: https://accounts.example.com
`;
    const [first, second] = parseRequestAuthenticationYaml(compact);
    expect(first).toEqual({ name: 'httpbin', namespace: 'foo', selector: { app: 'httpbin' }, targetsGateways: false, jwtRules: [FULL_RULE] });
    expect(second).toEqual({ ...MESH_WIDE, name: 'compact-1' });
  });

  it('accepts objects: one resource, a list, a kubectl List, or the compact map', () => {
    const resource = {
      apiVersion: 'security.istio.io/v1',
      kind: 'RequestAuthentication',
      metadata: { name: 'a' },
      spec: { jwtRules: [{ issuer: 'https://accounts.example.com' }] },
    };
    const expected = [{ ...MESH_WIDE, name: 'a', namespace: 'default' }];
    expect(validateRequestAuthentications(resource)).toEqual(expected);
    expect(validateRequestAuthentications([resource])).toEqual(expected);
    expect(validateRequestAuthentications({ apiVersion: 'v1', kind: 'List', items: [resource] })).toEqual(expected);
    expect(parseRequestAuthenticationYaml(JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [resource] }))).toEqual(expected);
    expect(validateRequestAuthentications({ requestAuthentications: [resource] }, { defaultNamespace: 'shop' })).toEqual([
      { ...expected[0], namespace: 'shop' },
    ]);
  });

  it('keeps inline jwks (public keys only) and lets it win over jwksUri, as Istio does', () => {
    const jwk = { kty: 'EC', crv: 'P-256', kid: 'k', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0' };
    const [policy] = validateRequestAuthentications([
      { jwtRules: [{ issuer: 'x', jwksUri: 'https://example.com/jwks', jwks: JSON.stringify({ keys: [jwk] }) }] },
    ]);
    expect(policy?.jwtRules[0]?.jwks).toEqual({ keys: [jwk] });
    expect(policy?.jwtRules[0]?.jwksUri).toBeUndefined();
  });

  it('marks targetRef policies as gateway-bound', () => {
    const [policy] = validateRequestAuthentications({
      apiVersion: 'security.istio.io/v1',
      kind: 'RequestAuthentication',
      metadata: { name: 'gw', namespace: 'ingress' },
      spec: { targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'gw' }] },
    });
    expect(policy?.targetsGateways).toBe(true);
  });
});
