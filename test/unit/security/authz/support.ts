/**
 * Helpers for the table-driven authorization suites: Istio YAML built from a
 * spec snippet, a request with defaults, and one `it` per row that parses,
 * compiles, checks and compares the decision.
 */
import { expect, it } from 'vitest';
import type { AuthzRequest } from '../../../../src/security/authz/attributes.js';
import { compileAuthorization } from '../../../../src/security/authz/compile.js';
import type { AuthzWorkload } from '../../../../src/security/authz/model.js';
import { parseAuthorizationPolicies } from '../../../../src/security/authz/parse.js';

export { dedent, docs, istio } from './yaml.js';

/** The workload under test unless a row says otherwise: httpbin v1 in namespace foo. */
export const WORKLOAD: AuthzWorkload = { namespace: 'foo', labels: { app: 'httpbin', version: 'v1' } };

export const SLEEP = 'cluster.local/ns/default/sa/sleep';

export interface RequestInput extends Partial<Omit<AuthzRequest, 'header'>> {
  readonly headers?: Readonly<Record<string, string>>;
}

/** A GET / from sleep over mTLS, unless overridden; `principal: undefined` is a plaintext peer. */
export function request(input: RequestInput = {}): AuthzRequest {
  const headers = input.headers ?? {};
  return {
    principal: SLEEP,
    sourceIp: '10.1.2.3',
    method: 'GET',
    path: '/',
    host: 'httpbin.foo.svc.cluster.local',
    port: 8000,
    ...input,
    header: (name) => headers[name],
  };
}

export interface DecisionCase {
  readonly name: string;
  /** Istio YAML (one or more documents) or parsed policies. */
  readonly policies: string | readonly unknown[];
  readonly request?: RequestInput;
  readonly workload?: AuthzWorkload;
  readonly allowed: boolean;
  /** The deciding policy, `namespace/name`; undefined when none decided. */
  readonly policy?: string;
  readonly audit?: readonly string[];
}

/** One `it` per row. */
export function runDecisionCases(cases: readonly DecisionCase[]): void {
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const policies = parseAuthorizationPolicies(c.policies);
    const authorizer = compileAuthorization(policies, c.workload ?? WORKLOAD);
    const decision = authorizer.check(request(c.request));
    expect({ allowed: decision.allowed, policy: decision.policy, audit: decision.audit }).toEqual({
      allowed: c.allowed,
      policy: c.policy,
      audit: c.audit,
    });
  });
}
