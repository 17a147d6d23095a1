/**
 * compileAuthorization: the policies that apply to one workload, compiled
 * once per config update into an Authorizer whose check() is a loop over
 * pre-built clauses.
 *
 * Which policies apply (Istio's rule): those in the workload's namespace
 * whose selector matches its labels (no selector: all of them), and those in
 * the root namespace whose selector matches, whatever the workload's
 * namespace. The decision follows Istio's order:
 *   1. any DENY policy matches → deny;
 *   2. no ALLOW policy applies → allow;
 *   3. any ALLOW policy matches → allow;
 *   4. otherwise → deny.
 * AUDIT policies are evaluated on every request and reported, and never
 * change the decision. (CUSTOM is rejected when the policies are parsed.)
 */
import type { AuthzRequest } from './attributes.js';
import { CheckContext } from './check-context.js';
import { compileRule } from './compile-rule.js';
import { type AuthzDecision, NO_ALLOW_MATCHED, NO_ALLOW_POLICIES, withAudit } from './decision.js';
import { type AuthorizationPolicy, type AuthzWorkload, DEFAULT_ROOT_NAMESPACE } from './model.js';
import { CompiledPolicy, FOUND_MAX, PolicyList } from './policy-list.js';

export interface Authorizer {
  /** Decide one request. Never throws for a denial; allocates only when AUDIT policies match. */
  check(req: AuthzRequest): AuthzDecision;
  /** The policies in effect for this workload, as `namespace/name`, in input order. */
  readonly policies: readonly string[];
}

class PolicyAuthorizer implements Authorizer {
  readonly #deny: PolicyList;
  readonly #allow: PolicyList;
  readonly #audit: PolicyList;
  readonly #capacity: number;
  readonly #ctx: CheckContext;
  readonly policies: readonly string[];

  constructor(deny: CompiledPolicy[], allow: CompiledPolicy[], audit: CompiledPolicy[], ids: readonly string[]) {
    this.#deny = new PolicyList(deny);
    this.#allow = new PolicyList(allow);
    this.#audit = new PolicyList(audit);
    this.#capacity = Math.max(deny.length, allow.length, audit.length);
    this.#ctx = new CheckContext(this.#capacity, FOUND_MAX);
    this.policies = ids;
  }

  check(req: AuthzRequest): AuthzDecision {
    let ctx = this.#ctx;
    if (ctx.busy) ctx = new CheckContext(this.#capacity, FOUND_MAX);
    ctx.busy = true;
    try {
      ctx.reset(req);
      return this.#decide(ctx);
    } finally {
      ctx.busy = false;
    }
  }

  #decide(ctx: CheckContext): AuthzDecision {
    let decision: AuthzDecision;
    const denied = this.#deny.firstMatch(ctx);
    if (denied !== undefined) decision = denied.denied;
    else if (this.#allow.length === 0) decision = NO_ALLOW_POLICIES;
    else decision = this.#allow.firstMatch(ctx)?.allowed ?? NO_ALLOW_MATCHED;
    if (this.#audit.length === 0) return decision;
    const audited = this.#audit.allMatches(ctx);
    return audited === undefined ? decision : withAudit(decision, audited);
  }
}

function selects(selector: Readonly<Record<string, string>> | undefined, labels: Readonly<Record<string, string>>): boolean {
  if (selector === undefined) return true;
  for (const key in selector) if (!Object.hasOwn(labels, key) || labels[key] !== selector[key]) return false;
  return true;
}

/**
 * Compile the policies that apply to `workload`. `policies` is validated
 * input (parseAuthorizationPolicies); a policy without a namespace belongs to
 * the workload's own namespace.
 */
export function compileAuthorization(policies: readonly AuthorizationPolicy[], workload: AuthzWorkload): Authorizer {
  const root = workload.rootNamespace ?? DEFAULT_ROOT_NAMESPACE;
  const labels = workload.labels ?? {};
  const deny: CompiledPolicy[] = [];
  const allow: CompiledPolicy[] = [];
  const audit: CompiledPolicy[] = [];
  const ids: string[] = [];
  for (const policy of policies) {
    const ns = policy.namespace ?? workload.namespace;
    if ((ns !== workload.namespace && ns !== root) || !selects(policy.selector, labels)) continue;
    const id = `${ns}/${policy.name}`;
    const compiled = new CompiledPolicy(id, (policy.rules ?? []).map((r) => compileRule(r, ns)));
    ids.push(id);
    if (policy.action === 'DENY') deny.push(compiled);
    else if (policy.action === 'AUDIT') audit.push(compiled);
    else allow.push(compiled);
  }
  return new PolicyAuthorizer(deny, allow, audit, Object.freeze(ids));
}
