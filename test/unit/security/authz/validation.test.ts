/**
 * Every way a policy can be wrong, and the exact path and words a user sees.
 * Each row is one input; the assertion is on the full list of issues, so a
 * misplaced path or a reworded message fails here.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, type ConfigIssue } from '../../../../src/config/config-error.js';
import { isMeshError } from '../../../../src/errors.js';
import { parseAuthorizationPolicies } from '../../../../src/security/authz/parse.js';
import { docs, istio } from './yaml.js';

interface Case {
  readonly name: string;
  readonly input: unknown;
  readonly issues: readonly ConfigIssue[];
}

const one = (path: string, message: string): readonly ConfigIssue[] => [{ path, message }];
const rule = (yaml: string) => istio('p', `rules: [${yaml}]`);
const R0 = 'policies[0].spec.rules[0]';
const SRC = `${R0}.from[0].source`;
const OP = `${R0}.to[0].operation`;
const LIST_RULE = 'must list at least one value; leave the field out to match any value';
const WILDCARD = 'has "*" where it is not supported; use it alone, at the start (suffix match) or at the end (prefix match)';

const CASES: readonly Case[] = [
  {
    name: 'CUSTOM, named',
    input: istio('ext-authz', 'action: CUSTOM\nprovider: { name: opa }\nrules: [{}]'),
    issues: one('policies[0].spec.action', 'CUSTOM (external authorization) is not supported by proxyless; policy "foo/ext-authz" cannot be applied'),
  },
  {
    name: 'CUSTOM in the compact form',
    input: [{ name: 'ext', namespace: 'foo', action: 'CUSTOM', rules: [{}] }],
    issues: one('policies[0].action', 'CUSTOM (external authorization) is not supported by proxyless; policy "foo/ext" cannot be applied'),
  },
  {
    name: 'unknown field, in the second document',
    input: docs(istio('a', 'rules: [{}]'), rule('{ to: [{ operation: { methods: [GET], pathz: [/x] } }] }')),
    issues: one('policies[1].spec.rules[0].to[0].operation.pathz', 'unknown field (did you mean "paths"?)'),
  },
  { name: 'unknown spec field', input: istio('a', 'rule: [{}]'), issues: one('policies[0].spec.rule', 'unknown field (did you mean "rules"?)') },
  {
    name: 'unknown metadata field',
    input: 'apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: a, namespce: foo }\n',
    issues: one('policies[0].metadata.namespce', 'unknown field (did you mean "namespace"?)'),
  },
  {
    name: 'bad IPv4 in a CIDR',
    input: rule('{ from: [{ source: { ipBlocks: ["10.0.0.0/8", "10.0.0.300/24"] } }] }'),
    issues: one(`${SRC}.ipBlocks[1]`, '"10.0.0.300/24" has address "10.0.0.300", which is not an IPv4 or IPv6 address'),
  },
  {
    name: 'IPv6 prefix too long',
    input: rule('{ from: [{ source: { notIpBlocks: ["2001:db8::/129"] } }] }'),
    issues: one(`${SRC}.notIpBlocks[0]`, '"2001:db8::/129" has prefix length "129"; write a number from 0 to 128'),
  },
  {
    name: 'not an IP in a source.ip condition, third document',
    input: docs(istio('a', '{}'), istio('b', '{}'), rule('{ when: [{ key: source.ip, values: [not-an-ip] }] }')),
    issues: one('policies[2].spec.rules[0].when[0].values[0]', '"not-an-ip" is not an IP address or CIDR block'),
  },
  {
    name: 'misspelt when key',
    input: rule('{ when: [{ key: "request.header[x]", values: [a] }] }'),
    issues: one(
      `${R0}.when[0].key`,
      'unknown attribute "request.header[x]" (did you mean "request.headers[name]"?); see https://istio.io/latest/docs/reference/config/security/conditions/',
    ),
  },
  {
    name: 'experimental.envoy.filters key',
    input: rule('{ when: [{ key: "experimental.envoy.filters.network.mysql_proxy[db.table]", values: ["[update]"] }] }'),
    issues: one(`${R0}.when[0].key`, 'experimental.envoy.filters.* reads Envoy filter metadata, which does not exist in proxyless'),
  },
  {
    name: 'destination.labels key',
    input: rule('{ when: [{ key: "destination.labels[app]", values: [x] }] }'),
    issues: one(`${R0}.when[0].key`, 'destination.labels is not a condition; use spec.selector.matchLabels'),
  },
  {
    name: 'header key without a name',
    input: rule('{ when: [{ key: "request.headers[]", values: [a] }] }'),
    issues: one(`${R0}.when[0].key`, 'write a header condition as request.headers[<name>], e.g. request.headers[x-user]'),
  },
  { name: 'empty values list', input: rule('{ when: [{ key: "request.headers[x]", values: [] }] }'), issues: one(`${R0}.when[0].values`, LIST_RULE) },
  {
    name: 'neither values nor notValues',
    input: rule('{ when: [{ key: "request.headers[x]" }] }'),
    issues: one(`${R0}.when[0]`, 'sets neither values nor notValues for request.headers[x]; set at least one'),
  },
  { name: 'empty principals list', input: rule('{ from: [{ source: { principals: [] } }] }'), issues: one(`${SRC}.principals`, LIST_RULE) },
  { name: 'empty principal string', input: rule('{ from: [{ source: { principals: [""] } }] }'), issues: one(`${SRC}.principals[0]`, 'must not be empty') },
  {
    name: 'principal with spiffe://',
    input: rule('{ from: [{ source: { principals: ["spiffe://cluster.local/ns/a/sa/b"] } }] }'),
    issues: one(`${SRC}.principals[0]`, 'write principals without "spiffe://", e.g. "cluster.local/ns/a/sa/b"'),
  },
  { name: 'principal not a string', input: rule('{ from: [{ source: { principals: [5] } }] }'), issues: one(`${SRC}.principals[0]`, 'must be a string, got number 5') },
  {
    name: 'DENY without rules',
    input: istio('a', 'action: DENY'),
    issues: one('policies[0].spec.rules', 'is required for a DENY policy, which never matches without rules; write `rules: [{}]` to deny every request'),
  },
  { name: 'from: []', input: rule('{ from: [] }'), issues: one(`${R0}.from`, 'must not be empty; to match any source, leave out `from`') },
  { name: 'from: a map, not a list', input: rule('{ from: { source: { principals: [a] } } }'), issues: one(`${R0}.from`, 'must be a list, got a map') },
  { name: 'empty source', input: rule('{ from: [{ source: {} }] }'), issues: one(SRC, 'sets no field; to match any source, leave out `from`') },
  { name: 'missing source', input: rule('{ from: [{}] }'), issues: one(SRC, 'is required (a map)') },
  { name: 'empty operation', input: rule('{ to: [{ operation: {} }] }'), issues: one(OP, 'sets no field; to match any operation, leave out `to`') },
  {
    name: 'serviceAccounts with principals',
    input: rule('{ from: [{ source: { serviceAccounts: [sleep], principals: ["*"] } }] }'),
    issues: one(SRC, 'serviceAccounts cannot be combined with principals or namespaces'),
  },
  { name: 'path with a middle wildcard', input: rule('{ to: [{ operation: { paths: ["/api/*/items"] } }] }'), issues: one(`${OP}.paths[0]`, `"/api/*/items" ${WILDCARD}`) },
  {
    name: 'path template with {**} before {*}',
    input: rule('{ to: [{ operation: { paths: [/ok, "/a/{**}/b/{*}"] } }] }'),
    issues: one(`${OP}.paths[1]`, '{**} must be the last operator in a path template'),
  },
  {
    name: 'path template operator inside a segment',
    input: rule('{ to: [{ operation: { notPaths: ["/a/{*}.txt"] } }] }'),
    issues: one(`${OP}.notPaths[0]`, 'segment "{*}.txt" mixes text with a template operator; {*} and {**} must each be a whole segment'),
  },
  { name: 'named port', input: rule('{ to: [{ operation: { ports: [http] } }] }'), issues: one(`${OP}.ports[0]`, '"http" is not a port; write a number from 0 to 65535') },
  {
    name: 'destination.port out of range',
    input: rule('{ when: [{ key: destination.port, values: ["70000"] }] }'),
    issues: one(`${R0}.when[0].values[0]`, '"70000" is not a port; write a number from 0 to 65535'),
  },
  {
    name: 'lower-case method',
    input: rule('{ to: [{ operation: { methods: [get] } }] }'),
    issues: one(`${OP}.methods[0]`, '"get": HTTP methods are upper case and compared exactly; write "GET"'),
  },
  {
    name: 'targetRefs',
    input: istio('a', 'targetRefs: [{ kind: Gateway, group: gateway.networking.k8s.io, name: gw }]\nrules: [{}]'),
    issues: one('policies[0].spec.targetRefs', 'is not supported: targetRefs attach a policy to a Gateway or waypoint; select workloads with selector.matchLabels'),
  },
  { name: 'unknown action', input: istio('a', 'action: REJECT\nrules: [{}]'), issues: one('policies[0].spec.action', 'must be ALLOW, DENY or AUDIT, got "REJECT"') },
  {
    name: 'v1alpha1',
    input: istio('a', 'rules: [{}]', 'foo', 'security.istio.io/v1alpha1'),
    issues: one('policies[0].apiVersion', 'must be security.istio.io/v1 or security.istio.io/v1beta1'),
  },
  { name: 'another kind', input: 'apiVersion: v1\nkind: Service\nmetadata: { name: x }\n', issues: one('policies[0].kind', 'must be "AuthorizationPolicy", got string "Service"') },
  { name: 'selector wildcard', input: istio('a', 'selector: { matchLabels: { app: "*" } }'), issues: one('policies[0].spec.selector.matchLabels.app', 'selectors take no wildcards') },
  { name: 'duplicate name', input: docs(istio('a', 'rules: [{}]'), istio('a', '{}')), issues: one('policies[1].metadata.name', 'duplicates the policy at policies[0]') },
  {
    name: 'YAML syntax error',
    input: docs(istio('a', 'rules: [{}]'), 'apiVersion: [\n'),
    issues: one('policies[1]', 'YAML syntax error at line 10, column 1: Flow sequence in block collection must be sufficiently indented and end with a ]'),
  },
  { name: 'compact: bad path', input: [{ name: 'x', rules: [{ to: [{ paths: ['/ok', 'no*wild*'] }] }] }], issues: one('policies[0].rules[0].to[0].paths[1]', `"no*wild*" ${WILDCARD}`) },
  { name: 'compact: no name', input: [{ action: 'ALLOW' }], issues: one('policies[0].name', 'is required (a string)') },
  {
    name: 'not a map',
    input: ['hello'],
    issues: one('policies[0]', 'must be a map (an AuthorizationPolicy resource or a compact policy), got string "hello"'),
  },
];

describe('authorization policy validation', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    let error: unknown;
    try {
      parseAuthorizationPolicies(c.input, { source: 'test' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues).toEqual(c.issues);
  });

  it('reports every problem in one error, with the source and code', () => {
    const input = docs(rule('{ to: [{ operation: { methods: [get] } }] }'), istio('b', 'action: DENY'));
    let error: ConfigError | undefined;
    try {
      parseAuthorizationPolicies(input, { source: 'file authz.yaml' });
    } catch (err) {
      error = err as ConfigError;
    }
    expect(isMeshError(error)).toBe(true);
    expect(error?.code).toBe('MESH_CONFIG_INVALID');
    expect(error?.issues.map((i) => i.path)).toEqual([`${OP}.methods[0]`, 'policies[1].spec.rules']);
    expect(error?.message).toMatch(/^invalid config from file authz\.yaml \(2 problems\):/);
  });
});
