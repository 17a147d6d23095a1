/**
 * Verifying one token against one rule with jose, and turning jose's errors
 * into the mesh's: a MESH_UNAUTHENTICATED error whose message is a short,
 * fixed reason. Neither the token nor its claims ever reach the message, the
 * details or the cause (jose's claim errors carry the whole payload).
 */
import { type CryptoKey, type JWTPayload, type JWTVerifyGetKey, type JWTVerifyOptions, jwtVerify } from 'jose';
import { MeshError } from '../../errors.js';

/** Asymmetric signatures only: HMAC keys would have to be shared with every verifier, and `none` signs nothing. */
export const ALLOWED_ALGORITHMS: readonly string[] = Object.freeze([
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
]);

/** Istio (Envoy's jwt_authn) tolerates 60 s of clock skew on exp and nbf. */
export const DEFAULT_CLOCK_SKEW_SEC = 60;

const MESSAGES = {
  malformed: 'JWT is malformed',
  too_large: 'JWT is too large',
  unknown_issuer: 'JWT issuer is not accepted',
  audience_mismatch: 'JWT audience is not accepted',
  expired: 'JWT has expired',
  not_yet_valid: 'JWT is not valid yet',
  algorithm_not_allowed: 'JWT signing algorithm is not allowed',
  unknown_key: 'JWT is signed with an unknown key',
  bad_signature: 'JWT signature is invalid',
  jwks_unavailable: "JWT cannot be verified: the issuer's keys are unavailable",
  invalid_claims: 'JWT claims are invalid',
  verification_failed: 'JWT verification failed',
} as const;

export type FailureReason = keyof typeof MESSAGES;

const MAX_ISSUER_IN_DETAILS = 200;

export function unauthenticated(reason: FailureReason, issuer?: unknown): MeshError {
  const details: Record<string, unknown> = { reason };
  // The issuer of a rejected token is unverified input: bounded, never more.
  if (typeof issuer === 'string') details.issuer = issuer.slice(0, MAX_ISSUER_IN_DETAILS);
  return new MeshError('MESH_UNAUTHENTICATED', MESSAGES[reason], { details });
}

export function reasonOf(err: unknown): FailureReason {
  const e = err as { code?: unknown; claim?: unknown; reason?: unknown };
  switch (e?.code) {
    case 'ERR_JWT_EXPIRED':
      return e.claim === 'exp' ? 'expired' : 'invalid_claims';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      // A missing aud or iss fails like a wrong one; a non-numeric nbf is malformed claims.
      if (e.claim === 'aud') return 'audience_mismatch';
      if (e.claim === 'iss') return 'unknown_issuer';
      if (e.claim === 'nbf' && e.reason === 'check_failed') return 'not_yet_valid';
      return 'invalid_claims';
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
    case 'ERR_JOSE_NOT_SUPPORTED':
      return 'algorithm_not_allowed';
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_INVALID':
      return 'unknown_key';
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return 'bad_signature';
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
      return 'malformed';
    case 'ERR_PROXYLESS_JWKS_UNAVAILABLE':
      return 'jwks_unavailable';
    default:
      return 'verification_failed';
  }
}

/** Verify options for one rule, built once at compile time. */
export function verifyOptions(issuer: string | undefined, audiences: readonly string[], clockSkewSec: number): JWTVerifyOptions {
  const options: JWTVerifyOptions = { algorithms: [...ALLOWED_ALGORITHMS], clockTolerance: clockSkewSec };
  if (issuer !== undefined) options.issuer = issuer;
  if (audiences.length > 0) options.audience = [...audiences];
  return options;
}

/**
 * Verify and return the claims. A token without a `kid` that several keys
 * could have signed is tried against each, as Envoy does; jose leaves that
 * loop to its caller.
 */
export async function verifyToken(token: string, keys: JWTVerifyGetKey, options: JWTVerifyOptions): Promise<JWTPayload> {
  try {
    return (await jwtVerify(token, keys, options)).payload;
  } catch (err) {
    if ((err as { code?: string }).code !== 'ERR_JWKS_MULTIPLE_MATCHING_KEYS') throw err;
    for await (const key of err as AsyncIterable<CryptoKey>) {
      try {
        return (await jwtVerify(token, key, options)).payload;
      } catch (inner) {
        if ((inner as { code?: string }).code !== 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') throw inner;
      }
    }
    throw err;
  }
}
