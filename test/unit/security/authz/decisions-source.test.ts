/**
 * `from.source` fields: principals and namespaces (which need a peer
 * certificate), request principals (which need a JWT), service accounts and
 * IP blocks, IPv4 and IPv6.
 */
import { describe } from 'vitest';
import { type DecisionCase, istio, runDecisionCases } from './support.js';

const JWT = { requestPrincipal: 'https://issuer.example.com/alice', claims: { iss: 'https://issuer.example.com', sub: 'alice' } };

const allowFrom = (source: string) => istio('allow', `rules: [{ from: [{ source: ${source} }] }]`);
const denyFrom = (source: string) => istio('deny', `action: DENY\nrules: [{ from: [{ source: ${source} }] }]`);

const CASES: DecisionCase[] = [
  // ── principals ──────────────────────────────────────────────────────────
  { name: 'principal allowed', policies: allowFrom('{ principals: [cluster.local/ns/default/sa/sleep] }'), allowed: true, policy: 'foo/allow' },
  {
    name: 'another principal is not allowed',
    policies: allowFrom('{ principals: [cluster.local/ns/default/sa/sleep] }'),
    request: { principal: 'cluster.local/ns/default/sa/curl' },
    allowed: false,
  },
  {
    name: 'principal with a tolerated spiffe:// prefix on the request side',
    policies: allowFrom('{ principals: [cluster.local/ns/default/sa/sleep] }'),
    request: { principal: 'spiffe://cluster.local/ns/default/sa/sleep' },
    allowed: true,
    policy: 'foo/allow',
  },
  { name: 'principal prefix wildcard', policies: allowFrom('{ principals: ["cluster.local/ns/default/*"] }'), allowed: true, policy: 'foo/allow' },
  { name: 'principal suffix wildcard', policies: allowFrom('{ principals: ["*/sa/sleep"] }'), allowed: true, policy: 'foo/allow' },
  {
    name: 'principals ["*"] requires mTLS: a plaintext peer is not allowed',
    policies: allowFrom('{ principals: ["*"] }'),
    request: { principal: undefined },
    allowed: false,
  },
  { name: 'principals ["*"] with an mTLS peer: allowed', policies: allowFrom('{ principals: ["*"] }'), allowed: true, policy: 'foo/allow' },
  {
    name: 'DENY notPrincipals ["*"] denies a plaintext peer',
    policies: denyFrom('{ notPrincipals: ["*"] }'),
    request: { principal: undefined },
    allowed: false,
    policy: 'foo/deny',
  },
  { name: 'DENY notPrincipals ["*"] lets an mTLS peer through', policies: denyFrom('{ notPrincipals: ["*"] }'), allowed: true },
  {
    name: 'ALLOW notPrincipals: anyone but sleep',
    policies: allowFrom('{ notPrincipals: [cluster.local/ns/default/sa/sleep] }'),
    allowed: false,
  },
  {
    name: 'ALLOW notPrincipals: a plaintext peer is "not sleep" too',
    policies: allowFrom('{ notPrincipals: [cluster.local/ns/default/sa/sleep] }'),
    request: { principal: undefined },
    allowed: true,
    policy: 'foo/allow',
  },
  // ── namespaces ──────────────────────────────────────────────────────────
  {
    name: 'namespace allowed (taken from the principal)',
    policies: allowFrom('{ namespaces: [test] }'),
    request: { principal: 'cluster.local/ns/test/sa/any' },
    allowed: true,
    policy: 'foo/allow',
  },
  { name: 'namespace default is not test', policies: allowFrom('{ namespaces: [test] }'), allowed: false },
  {
    name: 'namespaces need mTLS: plaintext has no namespace',
    policies: allowFrom('{ namespaces: ["*"] }'),
    request: { principal: undefined },
    allowed: false,
  },
  {
    name: 'DENY notNamespaces [foo] denies a plaintext peer (no namespace is not foo)',
    policies: denyFrom('{ notNamespaces: [foo] }'),
    request: { principal: undefined },
    allowed: false,
    policy: 'foo/deny',
  },
  {
    name: 'namespace prefix wildcard',
    policies: allowFrom('{ namespaces: ["prod-*"] }'),
    request: { principal: 'cluster.local/ns/prod-eu/sa/api' },
    allowed: true,
    policy: 'foo/allow',
  },
  {
    name: 'principal OR namespace across from entries (Istio reference example)',
    policies: istio('httpbin', 'rules:\n- from:\n  - source: { principals: [cluster.local/ns/default/sa/sleep] }\n  - source: { namespaces: [test] }'),
    request: { principal: 'cluster.local/ns/test/sa/other' },
    allowed: true,
    policy: 'foo/httpbin',
  },
  {
    name: 'fields in one source are ANDed: principal matches, namespace does not',
    policies: allowFrom('{ principals: [cluster.local/ns/default/sa/sleep], namespaces: [test] }'),
    allowed: false,
  },
  // ── service accounts ────────────────────────────────────────────────────
  { name: 'serviceAccounts namespace/name', policies: allowFrom('{ serviceAccounts: [default/sleep] }'), allowed: true, policy: 'foo/allow' },
  {
    name: 'serviceAccounts bare name is in the policy namespace (foo), not default',
    policies: allowFrom('{ serviceAccounts: [sleep] }'),
    allowed: false,
  },
  // ── request principals (JWT) ────────────────────────────────────────────
  {
    name: 'requestPrincipals exact iss/sub',
    policies: allowFrom('{ requestPrincipals: ["https://issuer.example.com/alice"] }'),
    request: JWT,
    allowed: true,
    policy: 'foo/allow',
  },
  { name: 'requestPrincipals: no JWT, no match', policies: allowFrom('{ requestPrincipals: ["*"] }'), allowed: false },
  {
    name: 'requestPrincipals issuer prefix',
    policies: allowFrom('{ requestPrincipals: ["https://issuer.example.com/*"] }'),
    request: JWT,
    allowed: true,
    policy: 'foo/allow',
  },
  {
    name: 'require a JWT: DENY notRequestPrincipals ["*"] without one',
    policies: denyFrom('{ notRequestPrincipals: ["*"] }'),
    allowed: false,
    policy: 'foo/deny',
  },
  // ── IP blocks ───────────────────────────────────────────────────────────
  {
    name: 'ipBlocks IPv4 CIDR match (Istio example: 1.2.3.4 and 5.6.7.0/24)',
    policies: allowFrom('{ ipBlocks: ["1.2.3.4", "5.6.7.0/24"] }'),
    request: { sourceIp: '5.6.7.8' },
    allowed: true,
    policy: 'foo/allow',
  },
  {
    name: 'ipBlocks IPv4 outside the block',
    policies: allowFrom('{ ipBlocks: ["1.2.3.4", "5.6.7.0/24"] }'),
    request: { sourceIp: '5.6.8.1' },
    allowed: false,
  },
  {
    name: 'ipBlocks IPv4 block matches an IPv4-mapped IPv6 peer address',
    policies: allowFrom('{ ipBlocks: ["5.6.7.0/24"] }'),
    request: { sourceIp: '::ffff:5.6.7.8' },
    allowed: true,
    policy: 'foo/allow',
  },
  {
    name: 'ipBlocks IPv6 CIDR match',
    policies: allowFrom('{ ipBlocks: ["2001:db8::/32"] }'),
    request: { sourceIp: '2001:db8:1::5' },
    allowed: true,
    policy: 'foo/allow',
  },
  {
    name: 'ipBlocks IPv6 outside the block',
    policies: allowFrom('{ ipBlocks: ["2001:db8::/32"] }'),
    request: { sourceIp: '2001:db9::1' },
    allowed: false,
  },
  {
    name: 'DENY notIpBlocks: outside 10.0.0.0/8 is denied',
    policies: denyFrom('{ notIpBlocks: ["10.0.0.0/8", "fd00::/8"] }'),
    request: { sourceIp: '192.168.1.1' },
    allowed: false,
    policy: 'foo/deny',
  },
  {
    name: 'DENY notIpBlocks: an IPv6 peer inside fd00::/8 passes',
    policies: denyFrom('{ notIpBlocks: ["10.0.0.0/8", "fd00::/8"] }'),
    request: { sourceIp: 'fd12:3456::1' },
    allowed: true,
  },
  {
    name: 'remoteIpBlocks match the original client (X-Forwarded-For), not the peer',
    policies: allowFrom('{ remoteIpBlocks: ["203.0.113.0/24"] }'),
    request: { sourceIp: '10.0.0.9', remoteIp: '203.0.113.7' },
    allowed: true,
    policy: 'foo/allow',
  },
  {
    name: 'remoteIpBlocks fall back to the peer address without a remote IP',
    policies: allowFrom('{ remoteIpBlocks: ["203.0.113.0/24"] }'),
    request: { sourceIp: '10.0.0.9' },
    allowed: false,
  },
];

describe('authorization decisions: sources', () => {
  runDecisionCases(CASES);
});
