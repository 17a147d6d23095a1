/**
 * The validated request-authentication model. Istio's RequestAuthentication
 * resources and our compact form both become these values; the
 * authenticator compiles only from them, never from raw config.
 */
import type { JSONWebKeySet } from 'jose';

/** Where a token is read from: a header with an optional value prefix. */
export interface HeaderLocation {
  /** Lowercased header name. */
  readonly name: string;
  /** Text stripped before the token (`"Bearer "`); empty for none. */
  readonly prefix: string;
}

export interface ClaimToHeader {
  /** Lowercased header name the claim is copied to. */
  readonly header: string;
  /** Claim name; a dotted name also reaches a nested claim (`realm.role`). */
  readonly claim: string;
}

/** One JWTRule: which issuer's tokens are accepted, where, and with which keys. */
export interface JwtRule {
  /** Required `iss`; undefined (Istio allows it with jwksUri) accepts any issuer. */
  readonly issuer: string | undefined;
  /** Accepted audiences; empty means the `aud` claim is not checked. */
  readonly audiences: readonly string[];
  /** Remote key set; ignored when `jwks` is set, as in Istio. */
  readonly jwksUri: string | undefined;
  /** Inline key set, already parsed and checked to hold only public keys. */
  readonly jwks: JSONWebKeySet | undefined;
  /** Explicit header locations; all three lists empty means the defaults. */
  readonly fromHeaders: readonly HeaderLocation[];
  readonly fromParams: readonly string[];
  readonly fromCookies: readonly string[];
  /** Lowercased header that receives the base64url payload. */
  readonly outputPayloadToHeader: string | undefined;
  readonly forwardOriginalToken: boolean;
  readonly outputClaimToHeaders: readonly ClaimToHeader[];
  /** JWKS fetch timeout in ms; undefined uses the cache's default (5 s). */
  readonly timeoutMs: number | undefined;
}

/** One RequestAuthentication, whatever form it was written in. */
export interface RequestAuthenticationPolicy {
  readonly name: string;
  readonly namespace: string;
  /**
   * `spec.selector.matchLabels`; undefined selects every workload in the
   * namespace (or, in the root namespace, the whole mesh).
   */
  readonly selector: Readonly<Record<string, string>> | undefined;
  /**
   * True when the resource names Gateway API targets (`targetRef(s)`)
   * instead of a selector. Such policies bind to gateways, never to an
   * in-process workload, so the authenticator skips them.
   */
  readonly targetsGateways: boolean;
  readonly jwtRules: readonly JwtRule[];
}
