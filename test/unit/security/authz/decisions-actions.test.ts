/**
 * Istio's evaluation order and scoping, one row per documented situation:
 * allow-nothing, allow-all, deny-all, DENY over ALLOW, AUDIT beside the
 * decision, selectors and the root namespace.
 */
import { describe } from 'vitest';
import { type DecisionCase, docs, istio, runDecisionCases } from './support.js';

const ALLOW_NOTHING = istio('allow-nothing', '{}');
const ALLOW_ALL = istio('allow-all', 'rules: [{}]');
const DENY_ALL = istio('deny-all', 'action: DENY\nrules: [{}]');
const AUDIT_ALL = istio('audit-all', 'action: AUDIT\nrules: [{}]');
const DENY_DELETE = istio('deny-delete', 'action: DENY\nrules: [{ to: [{ operation: { methods: [DELETE] } }] }]');
const ALLOW_READ = istio('allow-read', 'rules: [{ to: [{ operation: { methods: [GET, HEAD] } }] }]');

const CASES: DecisionCase[] = [
  { name: 'no policies: allow', policies: [], allowed: true },
  { name: 'allow-nothing (spec: {}) denies everything', policies: ALLOW_NOTHING, allowed: false },
  { name: 'allow-all (rules: [{}]) allows everything', policies: ALLOW_ALL, allowed: true, policy: 'foo/allow-all' },
  { name: 'deny-all (DENY, rules: [{}]) denies everything', policies: DENY_ALL, allowed: false, policy: 'foo/deny-all' },
  {
    name: 'DENY wins over a matching ALLOW',
    policies: docs(ALLOW_ALL, DENY_ALL),
    allowed: false,
    policy: 'foo/deny-all',
  },
  {
    name: 'allow-nothing beside allow-all: any matching ALLOW allows',
    policies: docs(ALLOW_NOTHING, ALLOW_ALL),
    allowed: true,
    policy: 'foo/allow-all',
  },
  {
    name: 'a DENY that does not match, and no ALLOW policy: allow',
    policies: DENY_DELETE,
    allowed: true,
  },
  {
    name: 'a DENY that matches the method',
    policies: DENY_DELETE,
    request: { method: 'DELETE' },
    allowed: false,
    policy: 'foo/deny-delete',
  },
  {
    name: 'ALLOW policies exist and none matches: deny',
    policies: docs(DENY_DELETE, ALLOW_READ),
    request: { method: 'POST' },
    allowed: false,
  },
  {
    name: 'the deciding ALLOW is the one that matched',
    policies: docs(ALLOW_NOTHING, ALLOW_READ),
    request: { method: 'HEAD' },
    allowed: true,
    policy: 'foo/allow-read',
  },
  {
    name: 'AUDIT alone: allowed (AUDIT is not an ALLOW policy), and audited',
    policies: AUDIT_ALL,
    allowed: true,
    audit: ['foo/audit-all'],
  },
  {
    name: 'AUDIT never turns a deny into an allow',
    policies: docs(AUDIT_ALL, DENY_ALL),
    allowed: false,
    policy: 'foo/deny-all',
    audit: ['foo/audit-all'],
  },
  {
    name: 'AUDIT never turns an allow into a deny',
    policies: docs(AUDIT_ALL, ALLOW_READ),
    allowed: true,
    policy: 'foo/allow-read',
    audit: ['foo/audit-all'],
  },
  {
    name: 'AUDIT that does not match adds no audit',
    policies: docs(istio('audit-post', 'action: AUDIT\nrules: [{ to: [{ operation: { methods: [POST] } }] }]'), ALLOW_ALL),
    allowed: true,
    policy: 'foo/allow-all',
  },
  {
    name: 'selector that matches the workload: applies',
    policies: istio('deny-httpbin', 'action: DENY\nselector: { matchLabels: { app: httpbin } }\nrules: [{}]'),
    allowed: false,
    policy: 'foo/deny-httpbin',
  },
  {
    name: 'selector for another app: does not apply',
    policies: istio('deny-reviews', 'action: DENY\nselector: { matchLabels: { app: reviews } }\nrules: [{}]'),
    allowed: true,
  },
  {
    name: 'selector needs every label: version v2 does not select v1',
    policies: istio('allow-nothing-v2', 'selector: { matchLabels: { app: httpbin, version: v2 } }'),
    allowed: true,
  },
  {
    name: 'a policy in another namespace does not apply',
    policies: istio('deny-all', 'action: DENY\nrules: [{}]', 'bar'),
    allowed: true,
  },
  {
    name: 'a root-namespace (istio-system) policy applies to every namespace',
    policies: istio('deny-all', 'action: DENY\nrules: [{}]', 'istio-system'),
    allowed: false,
    policy: 'istio-system/deny-all',
  },
  {
    name: 'a root-namespace policy with a selector applies to matching workloads anywhere',
    policies: istio('mesh-allow-nothing', 'selector: { matchLabels: { app: httpbin } }', 'istio-system'),
    allowed: false,
  },
  {
    name: 'a configured root namespace replaces istio-system',
    policies: docs(istio('deny-all', 'action: DENY\nrules: [{}]', 'istio-system'), istio('mesh-deny', 'action: DENY\nrules: [{}]', 'mesh-root')),
    workload: { namespace: 'foo', labels: {}, rootNamespace: 'mesh-root' },
    allowed: false,
    policy: 'mesh-root/mesh-deny',
  },
  {
    name: 'a compact policy without a namespace belongs to the workload namespace',
    policies: [{ name: 'deny-all', action: 'DENY', rules: [{}] }],
    allowed: false,
    policy: 'foo/deny-all',
  },
];

describe('authorization decisions: actions and scope', () => {
  runDecisionCases(CASES);
});
