/**
 * A gRPC method's own rules, compiled once when its handler is registered:
 * the `@Authorize` rules as an ALLOW policy for the authorization engine
 * (the very one the mesh's AuthorizationPolicies use), the `@RateLimit`
 * bucket, the `@Timeout` cap. Checked per call after the mesh's pipeline
 * admitted and authorized the call.
 */
import { ConfigError } from '../../config/config-error.js';
import { MeshError } from '../../errors.js';
import { TokenBucket } from '../../resilience/rate-limit.js';
import { type Authorizer, compileAuthorization } from '../../security/authz/compile.js';
import { type AuthzDenied, permissionDeniedError, reportDenial } from '../../security/authz/decision.js';
import { parseAuthorizationPolicies } from '../../security/authz/parse.js';
import type { InboundExchange } from '../inbound-exchange.js';
import { InboundView } from '../inbound-view.js';
import type { AuthorizeOptions, MethodPolicy } from './method-decorators.js';

export interface MethodRules {
  readonly path: string;
  readonly authorizer: Authorizer | undefined;
  /**
   * The decision an @Authorize refusal reports, built once: its `policy`,
   * `@Authorize /package.Service/Method`, labels the denial metric.
   */
  readonly denial: AuthzDenied;
  /** True when some @Authorize rule names request principals or claims: a call without a JWT then gets UNAUTHENTICATED. */
  readonly needsToken: boolean;
  readonly bucket: TokenBucket | undefined;
  readonly timeoutMs: number | undefined;
  readonly idempotent: boolean;
}

/** The class's policy under the method's: the method's own fields win, `@Authorize` rules add up. */
export function mergePolicies(outer: MethodPolicy | undefined, inner: MethodPolicy | undefined): MethodPolicy | undefined {
  if (outer === undefined) return inner;
  if (inner === undefined) return outer;
  const authorize = [...(outer.authorize ?? []), ...(inner.authorize ?? [])];
  return { ...outer, ...inner, ...(authorize.length > 0 ? { authorize } : {}) };
}

export function compileMethodRules(path: string, policy: MethodPolicy, namespace: string): MethodRules {
  const rl = policy.rateLimit;
  const max = rl === undefined ? 0 : (rl.maxTokens ?? rl.tokensPerFill ?? 100);
  return {
    path,
    authorizer: policy.authorize === undefined ? undefined : compileRules(path, policy.authorize, namespace),
    denial: Object.freeze({ allowed: false, policy: `@Authorize ${path}`, reason: `denied by @Authorize on ${path}` }),
    needsToken: (policy.authorize ?? []).some((a) => a.requestPrincipals !== undefined || a.claims !== undefined),
    bucket: rl === undefined ? undefined : new TokenBucket({ maxTokens: max, tokensPerFill: rl.tokensPerFill ?? max, fillIntervalMs: rl.fillInterval ?? 1000 }),
    timeoutMs: policy.timeoutMs,
    idempotent: policy.idempotent === true,
  };
}

/**
 * Every `@Authorize` must match (each is one ALLOW policy with one rule, so
 * they are ANDed by checking each), through the same parser and compiler as
 * an AuthorizationPolicy, so `*` patterns and claim matching mean the same.
 */
function compileRules(path: string, rules: readonly AuthorizeOptions[], namespace: string): Authorizer {
  const raw = rules.map((r, i) => ({
    name: `authorize-${i}`,
    action: 'ALLOW',
    rules: [
      {
        ...(r.principals !== undefined || r.namespaces !== undefined || r.requestPrincipals !== undefined
          ? {
              from: [
                {
                  ...(r.principals !== undefined ? { principals: [...r.principals] } : {}),
                  ...(r.namespaces !== undefined ? { namespaces: [...r.namespaces] } : {}),
                  ...(r.requestPrincipals !== undefined ? { requestPrincipals: [...r.requestPrincipals] } : {}),
                },
              ],
            }
          : {}),
        ...(r.claims !== undefined
          ? { when: Object.entries(r.claims).map(([claim, v]) => ({ key: `request.auth.claims[${claim}]`, values: typeof v === 'string' ? [v] : [...v] })) }
          : {}),
      },
    ],
  }));
  let policies: ReturnType<typeof parseAuthorizationPolicies>;
  try {
    policies = parseAuthorizationPolicies(raw, { source: `@Authorize on ${path}` });
  } catch (err) {
    if (err instanceof ConfigError) throw new MeshError('MESH_INVALID_ARGUMENT', err.message, { cause: err });
    throw err;
  }
  const each = policies.map((p) => compileAuthorization([p], { namespace }));
  return {
    policies: each.flatMap((a) => a.policies),
    check: (req) => {
      for (const a of each) {
        const d = a.check(req);
        if (!d.allowed) return d;
      }
      return { allowed: true, reason: `allowed by @Authorize on ${path}` };
    },
  };
}

/**
 * The method's @Authorize verdict for an admitted call, or the error to
 * answer with: UNAUTHENTICATED when the rule wants a JWT and none was
 * verified, PERMISSION_DENIED otherwise. A refusal is reported as the mesh's
 * own policies' refusals are (reportDenial), under the method's rule.
 */
export function checkMethodRules(rules: MethodRules, ex: InboundExchange): MeshError | undefined {
  const authorizer = rules.authorizer;
  if (authorizer === undefined) return undefined;
  const call = ex.call;
  const view = new InboundView(call.method, call.path, call.headers, call.peer, call.local);
  view.requestPrincipal = ex.requestPrincipal;
  view.claims = ex.claims;
  if (authorizer.check(view).allowed) return undefined;
  const err =
    rules.needsToken && ex.requestPrincipal === undefined
      ? new MeshError('MESH_UNAUTHENTICATED', `${rules.path} needs a verified JWT (authorization: Bearer)`)
      : permissionDeniedError(rules.denial, call.peer.principal);
  reportDenial(err, rules.denial.policy);
  return err;
}
