/**
 * `when` conditions: JWT claims (string, list, nested), audiences,
 * presenter, headers (values, notValues, presence) and the connection
 * attributes.
 */
import { describe } from 'vitest';
import { type DecisionCase, istio, runDecisionCases } from './support.js';

const allowWhen = (when: string) => istio('allow', `rules: [{ when: [${when}] }]`);
const denyWhen = (when: string) => istio('deny', `action: DENY\nrules: [{ when: [${when}] }]`);

const jwt = (claims: Record<string, unknown>) => ({ requestPrincipal: 'https://issuer.example.com/alice', claims });

const GROUPS = allowWhen('{ key: "request.auth.claims[groups]", values: [admin] }');

const CASES: DecisionCase[] = [
  {
    name: 'claims[groups]: a list claim that contains the value',
    policies: GROUPS,
    request: jwt({ groups: ['dev', 'admin'] }),
    allowed: true,
    policy: 'foo/allow',
  },
  { name: 'claims[groups]: a list without it', policies: GROUPS, request: jwt({ groups: ['dev'] }), allowed: false },
  { name: 'claims[groups]: no JWT at all', policies: GROUPS, allowed: false },
  {
    name: 'claims[iss]: a string claim (Istio reference example)',
    policies: allowWhen('{ key: "request.auth.claims[iss]", values: ["https://accounts.google.com"] }'),
    request: jwt({ iss: 'https://accounts.google.com' }),
    allowed: true,
    policy: 'foo/allow',
  },
  {
    name: 'nested claims [realm_access][roles]',
    policies: allowWhen('{ key: "request.auth.claims[realm_access][roles]", values: ["ops-*"] }'),
    request: jwt({ realm_access: { roles: ['viewer', 'ops-oncall'] } }),
    allowed: true,
    policy: 'foo/allow',
  },
  {
    name: 'a non-string claim never matches a value',
    policies: allowWhen('{ key: "request.auth.claims[admin]", values: ["true"] }'),
    request: jwt({ admin: true }),
    allowed: false,
  },
  {
    name: 'request.auth.audiences reads aud (a list)',
    policies: allowWhen('{ key: request.auth.audiences, values: [bookstore] }'),
    request: jwt({ aud: ['web', 'bookstore'] }),
    allowed: true,
    policy: 'foo/allow',
  },
  {
    name: 'request.auth.presenter reads azp',
    policies: allowWhen('{ key: request.auth.presenter, values: [frontend] }'),
    request: jwt({ azp: 'frontend' }),
    allowed: true,
    policy: 'foo/allow',
  },
  {
    name: 'request.auth.principal',
    policies: allowWhen('{ key: request.auth.principal, values: ["https://issuer.example.com/*"] }'),
    request: jwt({}),
    allowed: true,
    policy: 'foo/allow',
  },
  {
    name: 'header value (the key name is case-insensitive)',
    policies: allowWhen('{ key: "request.headers[X-Api-Version]", values: [v2] }'),
    request: { headers: { 'x-api-version': 'v2' } },
    allowed: true,
    policy: 'foo/allow',
  },
  {
    name: 'header absent: values do not match',
    policies: allowWhen('{ key: "request.headers[x-api-version]", values: [v2] }'),
    allowed: false,
  },
  {
    name: 'header notValues: an absent header is not the excluded value',
    policies: denyWhen('{ key: "request.headers[x-env]", notValues: [prod] }'),
    allowed: false,
    policy: 'foo/deny',
  },
  {
    name: 'header values and notValues together',
    policies: allowWhen('{ key: "request.headers[user-agent]", values: ["Mozilla*"], notValues: ["*bot"] }'),
    request: { headers: { 'user-agent': 'Mozilla/5.0 crawlbot' } },
    allowed: false,
  },
  {
    name: 'header "*" is presence, an empty value included',
    policies: allowWhen('{ key: "request.headers[x-trace]", values: ["*"] }'),
    request: { headers: { 'x-trace': '' } },
    allowed: true,
    policy: 'foo/allow',
  },
  {
    name: 'source.ip and remote.ip conditions',
    policies: allowWhen('{ key: source.ip, values: ["10.0.0.0/8"] }, { key: remote.ip, notValues: ["198.51.100.0/24"] }'),
    request: { sourceIp: '10.9.9.9', remoteIp: '203.0.113.1' },
    allowed: true,
    policy: 'foo/allow',
  },
  {
    name: 'source.namespace and source.principal conditions',
    policies: allowWhen('{ key: source.namespace, values: [default] }, { key: source.principal, values: ["*/sa/sleep"] }'),
    allowed: true,
    policy: 'foo/allow',
  },
  {
    name: 'source.principal condition with a plaintext peer',
    policies: allowWhen('{ key: source.principal, values: ["*"] }'),
    request: { principal: undefined },
    allowed: false,
  },
  {
    name: 'destination.port and destination.ip conditions',
    policies: allowWhen('{ key: destination.port, values: ["8000"] }, { key: destination.ip, values: ["fd00::/8"] }'),
    request: { destinationIp: 'fd00::10' },
    allowed: true,
    policy: 'foo/allow',
  },
  {
    name: 'connection.sni condition',
    policies: allowWhen('{ key: connection.sni, values: ["*.svc.cluster.local"] }'),
    request: { sni: 'httpbin.foo.svc.cluster.local' },
    allowed: true,
    policy: 'foo/allow',
  },
];

describe('authorization decisions: when conditions', () => {
  runDecisionCases(CASES);
});
