/**
 * The request authenticator: RequestAuthentication policies compiled once
 * per config update for one workload, then asked once per inbound request
 * (HTTP or gRPC) who the caller is.
 *
 * Istio's semantics:
 * - no token anywhere the rules look: the request passes with no principal.
 *   Requiring a token is an authorization policy's job
 *   (`requestPrincipals: ["*"]`), not this one's;
 * - a token that fails any check: MESH_UNAUTHENTICATED (HTTP 401, gRPC 16);
 * - the token's `iss` picks the rule; an issuer no rule names is rejected;
 * - on success the principal is `<iss>/<sub>`, and the header mutations
 *   (token removal, claim and payload headers) come back as data for the
 *   caller to apply: the authenticator never touches a framework's request.
 *
 * Two consequences worth knowing, both as in Istio (Envoy's jwt_authn):
 * - only a token read from a header is removed (forwardOriginalToken
 *   false); one in a query parameter or cookie stays, since removing it
 *   would mean rewriting the URL or the whole Cookie header;
 * - claim and payload headers replace what the client sent only when a
 *   token verified; a request without a token keeps any such header it
 *   brought, so an application trusts them only alongside a principal.
 */
import { createLocalJWKSet, type JWTVerifyGetKey, type JWTVerifyOptions } from 'jose';
import { appliesTo } from './applicability.js';
import { type AuthResult, NO_TOKEN_RESULT, resultOf, resultOfOne, type Verified } from './auth-result.js';
import type { JwksCache } from './jwks-cache.js';
import type { ClaimToHeader, JwtRule, RequestAuthenticationPolicy } from './model.js';
import type { RemoteJwks } from './remote-jwks.js';
import { type AuthRequest, compileLocations, extractToken, type TokenLocation } from './token-locations.js';
import { DEFAULT_MAX_AGE_MS, DEFAULT_MAX_TOKENS, VerifiedTokens } from './verified-tokens.js';
import { DEFAULT_CLOCK_SKEW_SEC, reasonOf, unauthenticated, verifyOptions, verifyToken } from './verify.js';

export interface RequestAuthenticatorOptions {
  /** The workload's namespace and labels, matched against policies' namespace and selector. */
  readonly namespace: string;
  readonly labels?: Readonly<Record<string, string>>;
  /** Policies here apply mesh-wide (default "istio-system", as in Istio). */
  readonly rootNamespace?: string;
  readonly jwks: JwksCache;
  /** Tolerance on exp and nbf, in seconds (default 60, as Istio). */
  readonly clockSkewSec?: number;
  /** Longer tokens are rejected before any parsing (default 32 KiB). */
  readonly maxTokenLength?: number;
  /**
   * Verified tokens remembered, so a repeat token skips its signature
   * check (verified-tokens.ts): at most `maxTokens` (default 1,000; 0 turns
   * it off), each trusted for `maxAgeMs` (default 5 minutes) and never past
   * its `exp`.
   */
  readonly verifiedTokens?: { readonly maxTokens?: number | undefined; readonly maxAgeMs?: number | undefined } | undefined;
}

export interface RequestAuthenticator {
  /** False when no policy applies: authenticate() then always passes without looking. */
  readonly active: boolean;
  /** `namespace/name` of the applied policies, for diagnostics. */
  readonly policies: readonly string[];
  /** Resolves with who the caller is, or rejects with MESH_UNAUTHENTICATED. */
  authenticate(req: AuthRequest): Promise<AuthResult>;
  /**
   * Release the key sets this authenticator holds; a set's timer stops when
   * nothing holds it. On a config update, compile the replacement first and
   * close the old one after, so fetched keys carry over.
   */
  close(): void;
}

const NO_TOKEN = Promise.resolve(NO_TOKEN_RESULT);

interface CompiledRule {
  readonly keys: JWTVerifyGetKey;
  readonly options: JWTVerifyOptions;
  readonly forward: boolean;
  readonly payloadHeader: string | undefined;
  readonly claimHeaders: readonly ClaimToHeader[];
}

interface Found {
  readonly loc: TokenLocation<CompiledRule>;
  readonly token: string;
}

interface VerifiedToken extends Verified {
  readonly rule: CompiledRule;
}

export function compileRequestAuthentication(
  policies: readonly RequestAuthenticationPolicy[],
  options: RequestAuthenticatorOptions,
): RequestAuthenticator {
  const workload = {
    namespace: options.namespace,
    labels: options.labels ?? {},
    rootNamespace: options.rootNamespace ?? 'istio-system',
  };
  const applied = policies.filter((p) => appliesTo(p, workload));
  const held: RemoteJwks[] = [];
  const skew = options.clockSkewSec ?? DEFAULT_CLOCK_SKEW_SEC;
  const rules = applied.flatMap((p) => p.jwtRules).map((rule) => ({ rule, compiled: compileRule(rule, options.jwks, held, skew) }));
  const verified = new VerifiedTokens<VerifiedToken>({
    maxTokens: options.verifiedTokens?.maxTokens ?? DEFAULT_MAX_TOKENS,
    maxAgeMs: options.verifiedTokens?.maxAgeMs ?? DEFAULT_MAX_AGE_MS,
  });
  return new Authenticator(
    applied.map((p) => `${p.namespace}/${p.name}`),
    compileLocations(rules),
    options.maxTokenLength ?? 32 * 1024,
    verified,
    skew * 1000,
    () => {
      for (const remote of held.splice(0)) options.jwks.release(remote);
    },
  );
}

function compileRule(rule: JwtRule, jwks: JwksCache, held: RemoteJwks[], skew: number): CompiledRule {
  let keys: JWTVerifyGetKey;
  if (rule.jwks !== undefined) keys = createLocalJWKSet(rule.jwks);
  else {
    const remote = jwks.acquire(rule.jwksUri, rule.issuer ?? '', rule.timeoutMs);
    held.push(remote);
    keys = remote.getKey;
  }
  return {
    keys,
    options: verifyOptions(rule.issuer, rule.audiences, skew),
    forward: rule.forwardOriginalToken,
    payloadHeader: rule.outputPayloadToHeader,
    claimHeaders: rule.outputClaimToHeaders,
  };
}

class Authenticator implements RequestAuthenticator {
  readonly active: boolean;
  readonly policies: readonly string[];
  readonly #locations: readonly TokenLocation<CompiledRule>[];
  readonly #maxTokenLength: number;
  readonly #verified: VerifiedTokens<VerifiedToken>;
  readonly #skewMs: number;
  readonly #release: () => void;

  constructor(
    policies: string[],
    locations: TokenLocation<CompiledRule>[],
    maxTokenLength: number,
    verified: VerifiedTokens<VerifiedToken>,
    skewMs: number,
    release: () => void,
  ) {
    this.policies = Object.freeze(policies);
    this.#locations = locations;
    this.active = locations.length > 0;
    this.#maxTokenLength = maxTokenLength;
    this.#verified = verified;
    this.#skewMs = skewMs;
    this.#release = release;
  }

  authenticate(req: AuthRequest): Promise<AuthResult> {
    const locations = this.#locations;
    let found: Found[] | undefined;
    for (let i = 0; i < locations.length; i++) {
      const loc = locations[i]!;
      const token = extractToken(loc, req);
      if (token === undefined) continue;
      if (found === undefined) found = [];
      found.push({ loc, token });
    }
    if (found === undefined) return NO_TOKEN;
    if (found.length === 1) {
      const known = this.#known(found[0]!);
      return known !== undefined ? Promise.resolve(resultOfOne(known)) : this.#verifyOne(found[0]!).then(resultOfOne);
    }
    return this.#verifyAll(found);
  }

  /** A token that verified before, where it was found this time, and may still be trusted now. */
  #known(found: Found): VerifiedToken | undefined {
    const known = this.#verified.get(found.token, Date.now());
    // Found elsewhere (another header, a query parameter), other rules may apply: check it afresh.
    return known !== undefined && known.loc === found.loc ? known : undefined;
  }

  close(): void {
    this.#release();
  }

  /**
   * Istio leaves requests with several tokens undefined; here every token
   * found must verify, and the first (in rule and location order) names the
   * principal.
   */
  async #verifyAll(found: readonly Found[]): Promise<AuthResult> {
    const verified: VerifiedToken[] = [];
    for (const f of found) verified.push(this.#known(f) ?? (await this.#verifyOne(f)));
    return resultOf(verified);
  }

  async #verifyOne(found: Found): Promise<VerifiedToken> {
    const { loc, token } = found;
    if (token.length > this.#maxTokenLength) throw unauthenticated('too_large');
    // Read the (unverified) `iss` first, to choose the rule and so the keys:
    // a token from an issuer no rule names never costs a signature check or
    // a JWKS fetch.
    const iss = unverifiedIssuer(token);
    const candidates = typeof iss === 'string' ? (loc.byIssuer.get(iss) ?? loc.anyIssuer) : loc.anyIssuer;
    if (candidates.length === 0) throw unauthenticated('unknown_issuer', iss);
    let firstError: unknown;
    for (const rule of candidates) {
      try {
        // Frozen: a remembered token's claims are handed to every request that repeats it.
        const payload = frozen(await verifyToken(token, rule.keys, rule.options));
        const verified: VerifiedToken = { loc, token, rule, payload };
        const exp = verified.payload.exp;
        // Trusted while verification would still pass it: up to exp plus the skew it was given.
        this.#verified.set(token, verified, Date.now(), typeof exp === 'number' ? exp * 1000 + this.#skewMs : undefined);
        return verified;
      } catch (err) {
        firstError ??= err;
      }
    }
    throw unauthenticated(reasonOf(firstError), iss);
  }
}

/** `value` and everything in it, frozen (JSON claims: no cycles). */
function frozen<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) frozen(inner);
    Object.freeze(value);
  }
  return value;
}

/**
 * The `iss` claim of a compact JWS, before verification. Lenient about
 * base64url details that jose's verify then checks strictly; what cannot be
 * a JWT at all (not three segments, payload not a JSON object) stops here.
 */
function unverifiedIssuer(token: string): unknown {
  const first = token.indexOf('.');
  const second = first < 0 ? -1 : token.indexOf('.', first + 1);
  if (second < 0 || token.indexOf('.', second + 1) >= 0) throw unauthenticated('malformed');
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(token.slice(first + 1, second), 'base64url').toString('utf8'));
  } catch {
    throw unauthenticated('malformed');
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) throw unauthenticated('malformed');
  return (payload as { iss?: unknown }).iss;
}
