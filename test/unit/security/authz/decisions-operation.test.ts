/**
 * `to.operation` fields: paths (exact, prefix, suffix, templates, never the
 * query), methods (gRPC is POST), ports and hosts (case-insensitive, with or
 * without a port).
 */
import { describe } from 'vitest';
import { type DecisionCase, istio, runDecisionCases } from './support.js';

const allowTo = (operation: string) => istio('allow', `rules: [{ to: [{ operation: ${operation} }] }]`);
const denyTo = (operation: string) => istio('deny', `action: DENY\nrules: [{ to: [{ operation: ${operation} }] }]`);

/** The Istio reference example: GET on /info*, or POST on /data. */
const INFO_DATA = istio(
  'httpbin',
  `
  rules:
  - to:
    - operation: { methods: [GET], paths: ["/info*"] }
    - operation: { methods: [POST], paths: [/data] }
  `,
);

const CASES: DecisionCase[] = [
  { name: 'path exact', policies: allowTo('{ paths: [/data] }'), request: { path: '/data' }, allowed: true, policy: 'foo/allow' },
  { name: 'path exact is not a prefix', policies: allowTo('{ paths: [/data] }'), request: { path: '/data/1' }, allowed: false },
  {
    name: 'path ignores the query string',
    policies: allowTo('{ paths: [/data] }'),
    request: { path: '/data?page=2' },
    allowed: true,
    policy: 'foo/allow',
  },
  { name: 'path prefix wildcard', policies: INFO_DATA, request: { path: '/info/v2' }, allowed: true, policy: 'foo/httpbin' },
  { name: 'method and path are ANDed: POST /info', policies: INFO_DATA, request: { method: 'POST', path: '/info' }, allowed: false },
  { name: 'operations are ORed: POST /data', policies: INFO_DATA, request: { method: 'POST', path: '/data' }, allowed: true, policy: 'foo/httpbin' },
  { name: 'path suffix wildcard', policies: allowTo('{ paths: ["*.png"] }'), request: { path: '/img/logo.png' }, allowed: true, policy: 'foo/allow' },
  { name: 'path suffix does not see the query', policies: allowTo('{ paths: ["*.png"] }'), request: { path: '/x?f=a.png' }, allowed: false },
  {
    name: 'path template {*} matches one segment',
    policies: allowTo('{ paths: ["/api/{*}/items"] }'),
    request: { path: '/api/42/items' },
    allowed: true,
    policy: 'foo/allow',
  },
  {
    name: 'path template {*} does not cross a "/"',
    policies: allowTo('{ paths: ["/api/{*}/items"] }'),
    request: { path: '/api/4/2/items' },
    allowed: false,
  },
  {
    name: 'path template {**} matches the rest',
    policies: allowTo('{ paths: ["/files/{**}"] }'),
    request: { path: '/files/a/b/c.txt' },
    allowed: true,
    policy: 'foo/allow',
  },
  {
    name: 'notPaths: ALLOW everything but /admin*',
    policies: allowTo('{ notPaths: ["/admin*"] }'),
    request: { path: '/admin/users' },
    allowed: false,
  },
  {
    name: 'DENY notMethods [GET]: POST is denied',
    policies: denyTo('{ notMethods: [GET] }'),
    request: { method: 'POST' },
    allowed: false,
    policy: 'foo/deny',
  },
  {
    name: 'gRPC: POST on /package.Service/Method',
    policies: allowTo('{ methods: [POST], paths: ["/helloworld.Greeter/*"] }'),
    request: { method: 'POST', path: '/helloworld.Greeter/SayHello' },
    allowed: true,
    policy: 'foo/allow',
  },
  { name: 'ports match the local port', policies: allowTo('{ ports: ["8000"] }'), allowed: true, policy: 'foo/allow' },
  { name: 'ports: another port', policies: allowTo('{ ports: ["8080"] }'), allowed: false },
  { name: 'DENY notPorts', policies: denyTo('{ notPorts: ["8080"] }'), allowed: false, policy: 'foo/deny' },
  {
    name: 'hosts are case-insensitive',
    policies: allowTo('{ hosts: [httpbin.example.com] }'),
    request: { host: 'HTTPBin.Example.com' },
    allowed: true,
    policy: 'foo/allow',
  },
  {
    name: 'hosts match without the port',
    policies: allowTo('{ hosts: [httpbin.example.com] }'),
    request: { host: 'httpbin.example.com:8000' },
    allowed: true,
    policy: 'foo/allow',
  },
  {
    name: 'hosts suffix wildcard, with a port',
    policies: allowTo('{ hosts: ["*.example.com"] }'),
    request: { host: 'api.example.com:443' },
    allowed: true,
    policy: 'foo/allow',
  },
  {
    name: 'DENY notHosts: an unexpected host is denied',
    policies: denyTo('{ notHosts: ["*.example.com"] }'),
    request: { host: 'evil.test' },
    allowed: false,
    policy: 'foo/deny',
  },
];

describe('authorization decisions: operations', () => {
  runDecisionCases(CASES);
});
