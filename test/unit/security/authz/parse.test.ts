/**
 * Reading policies: Istio resources (v1 and v1beta1, multi-document, as
 * kubectl prints them) and the compact form, which must give the same model.
 */
import { describe, expect, it } from 'vitest';
import { parseAuthorizationPolicies } from '../../../../src/security/authz/parse.js';
import { docs, istio } from './yaml.js';

const HTTPBIN_SPEC = `
  action: ALLOW
  selector: { matchLabels: { app: httpbin } }
  rules:
  - from:
    - source: { principals: [cluster.local/ns/default/sa/sleep] }
    - source: { namespaces: [test], notIpBlocks: [203.0.113.0/24] }
    to:
    - operation: { methods: [GET], paths: ["/info*"], ports: ["8000"] }
    when:
    - key: request.auth.claims[iss]
      values: ["https://accounts.google.com"]
`;

const COMPACT = `
- name: httpbin
  namespace: foo
  action: ALLOW
  selector: { app: httpbin }
  rules:
  - from:
    - { principals: [cluster.local/ns/default/sa/sleep] }
    - { namespaces: [test], notIpBlocks: [203.0.113.0/24] }
    to:
    - { methods: [GET], paths: ["/info*"], ports: [8000] }
    when:
    - key: request.auth.claims[iss]
      values: ["https://accounts.google.com"]
`;

describe('parseAuthorizationPolicies', () => {
  it('maps an Istio resource onto the model', () => {
    expect(parseAuthorizationPolicies(istio('httpbin', HTTPBIN_SPEC))).toEqual([
      {
        name: 'httpbin',
        namespace: 'foo',
        action: 'ALLOW',
        selector: { app: 'httpbin' },
        rules: [
          {
            from: [{ principals: ['cluster.local/ns/default/sa/sleep'] }, { namespaces: ['test'], notIpBlocks: ['203.0.113.0/24'] }],
            to: [{ methods: ['GET'], paths: ['/info*'], ports: [8000] }],
            when: [{ key: 'request.auth.claims[iss]', values: ['https://accounts.google.com'] }],
          },
        ],
      },
    ]);
  });

  it('reads the compact form into the same model', () => {
    expect(parseAuthorizationPolicies(COMPACT)).toEqual(parseAuthorizationPolicies(istio('httpbin', HTTPBIN_SPEC)));
  });

  it('reads v1 and v1beta1 documents from one stream, skipping empty documents', () => {
    const text = `${docs(istio('a', 'rules: [{}]'), istio('b', '{}', 'bar', 'security.istio.io/v1beta1'))}---\n`;
    const policies = parseAuthorizationPolicies(text);
    expect(policies.map((p) => `${p.namespace}/${p.name}:${p.action}:${p.rules === undefined ? 'none' : p.rules.length}`)).toEqual([
      'foo/a:ALLOW:1',
      'bar/b:ALLOW:none',
    ]);
  });

  it('reads a resource without spec as allow-nothing', () => {
    const [p] = parseAuthorizationPolicies('apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: x }\n');
    expect(p).toEqual({ name: 'x', namespace: undefined, action: 'ALLOW', selector: undefined, rules: undefined });
  });

  it('accepts the metadata and status kubectl prints', () => {
    const text = `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: x
  namespace: foo
  uid: 0b6e1d0a-1111-2222-3333-444455556666
  resourceVersion: "12345"
  generation: 2
  creationTimestamp: "2025-01-01T00:00:00Z"
  labels: { team: a }
  annotations: { kubectl.kubernetes.io/last-applied-configuration: "{}" }
spec: { rules: [{}] }
status: { validationMessages: [] }
`;
    expect(parseAuthorizationPolicies(text)).toHaveLength(1);
  });

  it('skips other kinds only when asked', () => {
    const text = docs('apiVersion: v1\nkind: Service\nmetadata: { name: httpbin }\n', istio('a', 'rules: [{}]'));
    expect(() => parseAuthorizationPolicies(text)).toThrow(/policies\[0\]\.kind/);
    expect(parseAuthorizationPolicies(text, { ignoreOtherKinds: true }).map((p) => p.name)).toEqual(['a']);
  });

  it('takes parsed values: one policy or a list', () => {
    const one = { name: 'a', rules: [{}] };
    expect(parseAuthorizationPolicies(one)).toEqual(parseAuthorizationPolicies([one]));
  });

  it('keeps a policy in another namespace distinct from a same-named one', () => {
    const text = docs(istio('a', '{}', 'foo'), istio('a', '{}', 'bar'));
    expect(parseAuthorizationPolicies(text)).toHaveLength(2);
  });
});
