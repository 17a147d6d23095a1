/**
 * What authentication tells the caller: who sent the request, and the
 * header changes to apply before the request reaches the application.
 * Plain data, so the HTTP server, the gRPC server and framework adapters
 * each apply it in their own request model.
 */
import type { JWTPayload } from 'jose';
import { claimHeaderValue } from './claim-headers.js';
import type { ClaimToHeader } from './model.js';
import type { LocationKind } from './token-locations.js';

export interface AuthResult {
  /** `<iss>/<sub>`, when the verified token has both. */
  readonly principal?: string;
  /** The verified claims, for authorization policies (`request.auth.claims[...]`). */
  readonly claims?: JWTPayload;
  readonly audiences?: readonly string[];
  /** The `azp` claim: the party the token was issued to. */
  readonly presenter?: string;
  /** Lowercased headers to delete from the request before it reaches the application. */
  readonly removeHeaders: readonly string[];
  /** Headers to set (replacing any value the client sent), lowercased names. */
  readonly addHeaders: readonly (readonly [string, string])[];
}

const EMPTY: readonly never[] = Object.freeze([]);

/** The result for a request that carries no token: one shared, frozen object (in one already-resolved promise). */
export const NO_TOKEN_RESULT: AuthResult = Object.freeze({ removeHeaders: EMPTY, addHeaders: EMPTY });

/** A token that verified: where it was found, the rule that accepted it, its claims. */
export interface Verified {
  readonly loc: { readonly kind: LocationKind; readonly name: string };
  readonly token: string;
  readonly rule: {
    readonly forward: boolean;
    readonly payloadHeader: string | undefined;
    readonly claimHeaders: readonly ClaimToHeader[];
  };
  readonly payload: JWTPayload;
}

export function resultOfOne(verified: Verified): AuthResult {
  return resultOf([verified]);
}

export function resultOf(verified: readonly Verified[]): AuthResult {
  const removeHeaders: string[] = [];
  const addHeaders: [string, string][] = [];
  for (const v of verified) {
    if (v.loc.kind === 'header' && !v.rule.forward && !removeHeaders.includes(v.loc.name)) removeHeaders.push(v.loc.name);
    if (v.rule.payloadHeader !== undefined) {
      // The token's own payload segment is already the base64url (unpadded)
      // encoding Istio forwards.
      const start = v.token.indexOf('.') + 1;
      addHeaders.push([v.rule.payloadHeader, v.token.slice(start, v.token.indexOf('.', start))]);
    }
    for (const op of v.rule.claimHeaders) {
      const value = claimHeaderValue(v.payload, op.claim);
      if (value !== undefined) addHeaders.push([op.header, value]);
    }
  }
  const claims = verified[0]!.payload;
  const { iss, sub, aud, azp } = claims;
  const result: { -readonly [K in keyof AuthResult]: AuthResult[K] } = { claims, removeHeaders, addHeaders };
  if (typeof iss === 'string' && typeof sub === 'string') result.principal = `${iss}/${sub}`;
  if (typeof aud === 'string') result.audiences = [aud];
  else if (Array.isArray(aud)) result.audiences = aud;
  if (typeof azp === 'string') result.presenter = azp;
  return result;
}
