/**
 * Who may call this workload: JWT authentication, then authorization, as
 * Istio's sidecar runs its jwt_authn and RBAC filters. Compiled once per
 * config update; with no policies at all it is inactive and the server
 * skips it entirely.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { isMeshError, MeshError } from '../errors.js';
import type { Authorizer } from '../security/authz/compile.js';
import { permissionDeniedError, reportDenial } from '../security/authz/decision.js';
import type { AuthResult } from '../security/jwt/auth-result.js';
import type { RequestAuthenticator } from '../security/jwt/authenticator.js';
import type { InboundView } from './inbound-view.js';

/** What a handler can read about an admitted request. */
export interface RequestAuth {
  /** The verified JWT's `iss/sub`, when the request carried one. */
  readonly requestPrincipal: string | undefined;
  readonly claims: Readonly<Record<string, unknown>> | undefined;
}

const NO_AUTH: RequestAuth = Object.freeze({ requestPrincipal: undefined, claims: undefined });

export class InboundGuard {
  readonly #authn: RequestAuthenticator | undefined;
  readonly #authz: Authorizer | undefined;
  readonly #claimHeaders: readonly string[];

  /**
   * `claimHeaders`: the headers JWT rules write claims or the payload into.
   * A client's own values for them are always removed, token or not, so an
   * application can trust them (Istio leaves them when no token is sent).
   */
  constructor(authn: RequestAuthenticator | undefined, authz: Authorizer | undefined, claimHeaders: readonly string[] = []) {
    this.#authn = authn?.active ? authn : undefined;
    this.#authz = authz !== undefined && authz.policies.length > 0 ? authz : undefined;
    this.#claimHeaders = claimHeaders;
  }

  get active(): boolean {
    return this.#authn !== undefined || this.#authz !== undefined;
  }

  /** True when admission may remove or add headers (JWT rules, claim headers). */
  get rewritesHeaders(): boolean {
    return this.#authn !== undefined || this.#claimHeaders.length > 0;
  }

  /** True when a JWT rule applies: admission must wait for token verification (admit). */
  get authenticates(): boolean {
    return this.#authn !== undefined;
  }

  /**
   * Authorization alone, synchronously, for guards with no JWT rules (see
   * `authenticates`): most requests need no promise. Throws
   * MESH_PERMISSION_DENIED.
   */
  admitNow(view: InboundView, headers: IncomingHttpHeaders): RequestAuth {
    const claimHeaders = this.#claimHeaders;
    if (claimHeaders.length > 0) {
      // The view reads headers lazily: pin them as they arrived before removing any.
      view.pin();
      for (let i = 0; i < claimHeaders.length; i++) delete headers[claimHeaders[i]!];
    }
    this.#check(view);
    return NO_AUTH;
  }

  /**
   * Authenticate and authorize; resolves with what the handler may read, or
   * rejects with MESH_UNAUTHENTICATED (401) or MESH_PERMISSION_DENIED (403).
   * Header changes from authentication (the token removed, claims copied)
   * are applied to `headers` before the handler runs.
   */
  async admit(view: InboundView, headers: IncomingHttpHeaders): Promise<RequestAuth> {
    let auth: AuthResult | undefined;
    // The view reads lazily: pin the request as it arrived, before headers
    // change and while the socket is surely open.
    view.pin();
    for (const name of this.#claimHeaders) delete headers[name];
    if (this.#authn !== undefined) {
      try {
        auth = await this.#authn.authenticate(view);
      } catch (err) {
        reportDenial(err, undefined);
        throw err;
      }
      view.requestPrincipal = auth.principal;
      view.claims = auth.claims;
      for (const name of auth.removeHeaders) delete headers[name];
      for (const [name, value] of auth.addHeaders) headers[name] = value;
    }
    this.#check(view);
    return auth === undefined ? NO_AUTH : { requestPrincipal: auth.principal, claims: auth.claims };
  }

  #check(view: InboundView): void {
    if (this.#authz === undefined) return;
    const decision = this.#authz.check(view);
    if (!decision.allowed) {
      const err = permissionDeniedError(decision, view.principal);
      reportDenial(err, decision.policy);
      throw err;
    }
  }
}

/** The reply for a refused request: the code's status and a short reason, never the token. */
export function refusal(err: unknown): { status: number; body: string } {
  const e = refusalError(err);
  return { status: e.httpStatus, body: `${e.message}\n` };
}

/**
 * A failure of authentication or authorization as every adapter answers
 * it: a MeshError as it is, anything else (a JWKS fetch that threw) as
 * MESH_UNAUTHENTICATED, a 401, since the caller was not shown to be who
 * it claims.
 */
export function refusalError(err: unknown): MeshError {
  return isMeshError(err) ? err : new MeshError('MESH_UNAUTHENTICATED', 'authentication failed', { cause: err });
}
