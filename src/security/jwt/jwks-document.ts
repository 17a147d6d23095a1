/**
 * Checking a JSON Web Key Set document, inline in config or fetched: which
 * keys can verify tokens here. Only public asymmetric keys qualify; a
 * symmetric (`oct`) key would let anyone holding the config mint tokens, and
 * private key material has no business in a verifier's config.
 */
import { createPublicKey } from 'node:crypto';
import type { JSONWebKeySet, JWK } from 'jose';

const ASYMMETRIC_KTY = new Set(['RSA', 'EC', 'OKP']);
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'] as const;

export interface CheckedJwks {
  /** The usable keys, in document order. */
  readonly jwks: JSONWebKeySet;
  /** Why each other key was left out (kid and index only, never key material). */
  readonly problems: readonly string[];
}

/** Parse JWKS text; returns a reason string when it is not a key set at all. */
export function parseJwksText(text: string): CheckedJwks | string {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return 'is not valid JSON; write the JSON Web Key Set document as a string';
  }
  return checkJwks(doc);
}

/** Keep the usable keys of a parsed document; a string when it has no `keys` list. */
export function checkJwks(doc: unknown): CheckedJwks | string {
  if (doc === null || typeof doc !== 'object' || !Array.isArray((doc as { keys?: unknown }).keys)) {
    return 'is not a JSON Web Key Set (an object with a "keys" list)';
  }
  const keys: JWK[] = [];
  const problems: string[] = [];
  (doc as { keys: unknown[] }).keys.forEach((key, i) => {
    const problem = keyProblem(key);
    if (problem === undefined) keys.push(key as JWK);
    else problems.push(`keys[${i}]${kidText(key)} ${problem}`);
  });
  return { jwks: { keys }, problems };
}

function keyProblem(key: unknown): string | undefined {
  if (key === null || typeof key !== 'object' || Array.isArray(key)) return 'is not a JSON object';
  const jwk = key as Record<string, unknown>;
  if (typeof jwk.kty !== 'string') return 'has no "kty"';
  if (jwk.kty === 'oct') return 'is a symmetric ("oct") key; only public RSA, EC and OKP keys verify tokens';
  if (!ASYMMETRIC_KTY.has(jwk.kty)) return `has unsupported "kty" ${JSON.stringify(jwk.kty)}`;
  if (PRIVATE_MEMBERS.some((m) => jwk[m] !== undefined)) return 'holds private key material; publish only the public key';
  if (jwk.use !== undefined && jwk.use !== 'sig') return `is for "use" ${JSON.stringify(jwk.use)}, not signatures`;
  let bits: number | undefined;
  try {
    bits = createPublicKey({ key: jwk as never, format: 'jwk' }).asymmetricKeyDetails?.modulusLength;
  } catch {
    return 'is not a valid public key';
  }
  // jose (like RFC 7518) refuses RSA signatures under 2048 bits: say so now, not per token.
  if (jwk.kty === 'RSA' && (bits ?? 0) < 2048) return `is a ${bits ?? 0}-bit RSA key; at least 2048 bits are required`;
  return undefined;
}

function kidText(key: unknown): string {
  const kid = key !== null && typeof key === 'object' ? (key as { kid?: unknown }).kid : undefined;
  return typeof kid === 'string' ? ` (kid ${JSON.stringify(kid.slice(0, 64))})` : '';
}
