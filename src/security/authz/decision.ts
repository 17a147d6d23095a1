/**
 * What a check returns, the error an adapter raises for a denial, and the
 * one place an inbound refusal is reported (reportDenial).
 *
 * Decisions are frozen and, except when AUDIT policies matched, shared: the
 * compiler builds each policy's allow or deny result once, so a check returns
 * an existing object instead of building one.
 */
import { isMeshError, MeshError } from '../../errors.js';
import { publish } from '../../telemetry/events.js';

interface DecisionBase {
  /** The deciding policy as `namespace/name`; absent when no policy decided. */
  readonly policy?: string;
  /** Short and safe to send to a client: `denied by policy default/deny-delete`. */
  readonly reason: string;
  /** The AUDIT policies that matched (`namespace/name`); absent when none did. */
  readonly audit?: readonly string[];
}

export interface AuthzAllowed extends DecisionBase {
  readonly allowed: true;
}

export interface AuthzDenied extends DecisionBase {
  readonly allowed: false;
}

export type AuthzDecision = AuthzAllowed | AuthzDenied;

export const NO_ALLOW_POLICIES: AuthzAllowed = Object.freeze({ allowed: true, reason: 'no ALLOW policy applies' });
export const NO_ALLOW_MATCHED: AuthzDenied = Object.freeze({ allowed: false, reason: 'no ALLOW policy matched' });

export function allowedBy(policy: string): AuthzAllowed {
  return Object.freeze({ allowed: true, policy, reason: `allowed by policy ${policy}` });
}

export function deniedBy(policy: string): AuthzDenied {
  return Object.freeze({ allowed: false, policy, reason: `denied by policy ${policy}` });
}

/** The shared decision plus the AUDIT policies that matched: the one allocation a check may make. */
export function withAudit(decision: AuthzDecision, audit: readonly string[]): AuthzDecision {
  return Object.freeze({ ...decision, audit: Object.freeze(audit) });
}

/**
 * The error for a denial: MESH_PERMISSION_DENIED (HTTP 403, gRPC
 * PERMISSION_DENIED), with the deciding policy and the peer's principal in
 * `details` for logs. The message is the decision's reason, which is safe to
 * send to the client.
 */
export function permissionDeniedError(decision: AuthzDenied, principal?: string): MeshError {
  return new MeshError('MESH_PERMISSION_DENIED', decision.reason, {
    details: { policy: decision.policy, principal },
  });
}

/**
 * Reports an inbound request refused by authentication or authorization on
 * `proxyless:denied` as `{ code, policy }`, which
 * `proxyless_inbound_denials_total` counts. Every such refusal goes through
 * here, whatever the protocol: the inbound guard's JWT and policy checks
 * (HTTP servers, the framework adapters, gRPC servers) and a gRPC method's
 * `@Authorize` rules. `policy` is what decided (`namespace/name`,
 * `@Authorize /package.Service/Method`), undefined when no single policy did;
 * an error that is not a MeshError counts as MESH_UNAUTHENTICATED, as the
 * reply to it is.
 */
export function reportDenial(err: unknown, policy: string | undefined): void {
  publish('denied', () => ({ code: isMeshError(err) ? err.code : 'MESH_UNAUTHENTICATED', policy }));
}
