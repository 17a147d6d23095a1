/**
 * Tokens that verified, remembered so a repeat token skips its signature
 * check: an RS256 check costs ~80 µs of CPU, and a caller sends the same
 * token on every request until it expires. Envoy's jwt_authn offers the
 * same (`jwt_cache_config`).
 *
 * What a remembered token is trusted for, and what not:
 * - never past its `exp` (plus the clock skew verification allowed): an
 *   expired token is checked again, and fails as expired;
 * - never longer than `maxAgeMs` after it verified, so a key withdrawn
 *   from the issuer's JWKS stops vouching for its tokens within that time;
 * - only for the token location and compiled rules it verified under: the
 *   cache belongs to one authenticator, which a config update changing the
 *   JWT rules, the workload or these limits replaces (mesh-security.ts).
 * Failures are never remembered.
 *
 * Bounded by count and by the characters of the tokens held (a token may
 * be up to 32 KiB); the oldest entry goes first, and a hit moves its token
 * to the back, so the tokens in use stay.
 */

export interface VerifiedTokensOptions {
  /** Tokens held at most; 0 turns the cache off. */
  readonly maxTokens: number;
  /** How long after it verified a token is trusted without a new check, in ms. */
  readonly maxAgeMs: number;
  /** Token characters held at most, all entries together. */
  readonly maxChars?: number;
}

export const DEFAULT_MAX_TOKENS = 1_000;
export const DEFAULT_MAX_AGE_MS = 5 * 60_000;
/** Room for the default count of typical (~1–4 KiB) tokens, and a hard cap on memory. */
export const DEFAULT_MAX_CHARS = 4 * 1024 * 1024;

interface Entry<V> {
  readonly value: V;
  /** Epoch ms after which the entry is not used. */
  readonly until: number;
}

export class VerifiedTokens<V> {
  readonly #entries = new Map<string, Entry<V>>();
  readonly #maxTokens: number;
  readonly #maxAgeMs: number;
  readonly #maxChars: number;
  #chars = 0;

  constructor(options: VerifiedTokensOptions) {
    this.#maxTokens = Math.max(0, Math.floor(options.maxTokens));
    this.#maxAgeMs = Math.max(0, options.maxAgeMs);
    this.#maxChars = options.maxChars ?? DEFAULT_MAX_CHARS;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The value a token verified with, while it may still be trusted at `nowMs` (epoch ms). */
  get(token: string, nowMs: number): V | undefined {
    const entry = this.#entries.get(token);
    if (entry === undefined) return undefined;
    this.#entries.delete(token);
    if (nowMs >= entry.until) {
      this.#chars -= token.length;
      return undefined;
    }
    this.#entries.set(token, entry);
    return entry.value;
  }

  /**
   * Remember a token that verified at `nowMs`. `expiresAtMs` is its `exp`
   * with the verifier's skew added (undefined when it has none).
   */
  set(token: string, value: V, nowMs: number, expiresAtMs: number | undefined): void {
    if (this.#maxTokens === 0 || token.length > this.#maxChars) return;
    const until = Math.min(nowMs + this.#maxAgeMs, expiresAtMs ?? Number.POSITIVE_INFINITY);
    if (until <= nowMs) return;
    const old = this.#entries.get(token);
    if (old !== undefined) {
      this.#entries.delete(token);
      this.#chars -= token.length;
    }
    this.#entries.set(token, { value, until });
    this.#chars += token.length;
    for (const oldest of this.#entries.keys()) {
      if (this.#entries.size <= this.#maxTokens && this.#chars <= this.#maxChars) break;
      this.#entries.delete(oldest);
      this.#chars -= oldest.length;
    }
  }
}
