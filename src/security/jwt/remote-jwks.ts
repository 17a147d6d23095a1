/**
 * One remote key set: the last good keys from a JWKS URI (or from the URI
 * an issuer's OpenID discovery document names), refreshed on one unref'd
 * timer, and refreshed early when a token names a key it does not have.
 *
 * Why not jose's createRemoteJWKSet:
 * - it fetches with the global fetch, which the mesh or a tracer may have
 *   taken over; key fetches are internal traffic;
 * - once its cache is older than cacheMaxAge it refetches on the request
 *   path, and a failed fetch fails that request although older keys exist;
 * - its cooldown runs from the last success, so while the JWKS server is
 *   down every unknown `kid` triggers another fetch.
 * Here the refresh is off the request path, failures keep the last good
 * keys (logged once per outage), and every attempt counts towards the rate
 * limit: a flood of made-up `kid`s costs at most one fetch per
 * `minRefreshIntervalMs`, whether the server is up or down.
 */
import { type CompactJWSHeaderParameters, type CryptoKey, createLocalJWKSet, type FlattenedJWSInput, type LocalJWKSet } from 'jose';
import type { MeshLogger } from '../../telemetry/logger.js';
import { checkJwks } from './jwks-document.js';
import { loggableUrl } from './jwks-fetch.js';

export interface RemoteJwksEnv {
  /** GET a JSON document, detached from the caller's async context. */
  readonly fetchJson: (url: string, timeoutMs: number) => Promise<unknown>;
  /** Run `fn` in the cache's own async context (timers must not capture a request's). */
  readonly detached: <T>(fn: () => T) => T;
  readonly refreshIntervalMs: number;
  readonly minRefreshIntervalMs: number;
  readonly now: () => number;
  readonly logger: MeshLogger;
}

export interface JwksStats {
  /** The JWKS URI (without credentials or query), or the discovery URL while unresolved. */
  readonly uri: string;
  readonly kids: readonly string[];
  readonly fetches: number;
  /** True while the last fetch failed (the previous keys, if any, stay in use). */
  readonly failing: boolean;
}

/** Thrown to jose's verify when no key set has ever been fetched. */
export class JwksUnavailableError extends Error {
  override readonly name = 'JwksUnavailableError';
  readonly code = 'ERR_PROXYLESS_JWKS_UNAVAILABLE';
}

const NO_MATCHING_KEY = 'ERR_JWKS_NO_MATCHING_KEY';

export class RemoteJwks {
  /** Authenticators holding this key set; the cache stops it at zero. */
  refs = 0;
  timeoutMs: number;
  readonly #env: RemoteJwksEnv;
  readonly #discoveryUrl: string | undefined;
  #jwksUri: string | undefined;
  #set: LocalJWKSet | undefined;
  #kids: readonly string[] = [];
  #lastAttempt = Number.NEGATIVE_INFINITY;
  #inflight: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #fetches = 0;
  #failing = false;
  #stopped = false;

  /** Either a JWKS URI, or an issuer whose keys are found by OpenID discovery. */
  constructor(source: { jwksUri: string } | { issuer: string }, timeoutMs: number, env: RemoteJwksEnv) {
    this.#env = env;
    this.timeoutMs = timeoutMs;
    if ('jwksUri' in source) this.#jwksUri = source.jwksUri;
    else this.#discoveryUrl = `${source.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  }

  /** jose's key-resolver contract, for jwtVerify. */
  readonly getKey = async (header: CompactJWSHeaderParameters, token: FlattenedJWSInput): Promise<CryptoKey> => {
    if (this.#set === undefined) {
      if (this.#inflight !== undefined || this.#mayRefresh()) await this.refresh();
      if (this.#set === undefined) throw new JwksUnavailableError('no JWKS has been fetched yet');
    }
    try {
      return await this.#set(header, token);
    } catch (err) {
      if ((err as { code?: string }).code !== NO_MATCHING_KEY) throw err;
      // An unknown kid usually means the issuer rotated keys since the last
      // fetch; the rate limit bounds what made-up kids can cost.
      if (this.#inflight === undefined && !this.#mayRefresh()) throw err;
      await this.refresh();
      return this.#set(header, token);
    }
  };

  /** Fetch now, or join the fetch in flight. Never rejects: failures keep the last good keys. */
  refresh(): Promise<void> {
    if (this.#inflight !== undefined) return this.#inflight;
    this.#startTimer();
    this.#lastAttempt = this.#env.now();
    this.#inflight = this.#fetch().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  /** True once a fetch has succeeded. */
  get hasKeys(): boolean {
    return this.#set !== undefined;
  }

  /** Resolves when no fetch is in flight (for shutdown and tests). */
  async settled(): Promise<void> {
    while (this.#inflight !== undefined) await this.#inflight;
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  stats(): JwksStats {
    return {
      uri: loggableUrl(this.#jwksUri ?? this.#discoveryUrl ?? ''),
      kids: this.#kids,
      fetches: this.#fetches,
      failing: this.#failing,
    };
  }

  #mayRefresh(): boolean {
    return !this.#stopped && this.#env.now() - this.#lastAttempt >= this.#env.minRefreshIntervalMs;
  }

  #startTimer(): void {
    if (this.#timer !== undefined || this.#stopped) return;
    this.#timer = this.#env.detached(() =>
      setInterval(() => {
        void this.refresh();
      }, this.#env.refreshIntervalMs),
    );
    this.#timer.unref();
  }

  async #fetch(): Promise<void> {
    const uri = this.#jwksUri ?? this.#discoveryUrl!;
    try {
      if (this.#jwksUri === undefined) this.#jwksUri = await this.#discover();
      this.#fetches++;
      const checked = checkJwks(await this.#env.fetchJson(this.#jwksUri, this.timeoutMs));
      if (typeof checked === 'string') throw new Error(`document ${checked}`);
      if (checked.jwks.keys.length === 0) throw new Error('document has no usable public signing key');
      if (this.#stopped) return;
      this.#set = createLocalJWKSet(checked.jwks);
      this.#kids = checked.jwks.keys.flatMap((k) => (typeof k.kid === 'string' ? [k.kid] : []));
      if (this.#failing) this.#env.logger.info('JWKS fetch recovered', { jwksUri: loggableUrl(this.#jwksUri) });
      this.#failing = false;
    } catch (err) {
      // A discovered URI may have moved: discover again on the next attempt.
      if (this.#discoveryUrl !== undefined) this.#jwksUri = undefined;
      if (this.#failing || this.#stopped) return;
      this.#failing = true;
      this.#env.logger.warn(
        this.#set === undefined
          ? 'JWKS fetch failed; tokens needing these keys are rejected until a fetch succeeds'
          : 'JWKS fetch failed; keeping the last good key set',
        { jwksUri: loggableUrl(uri), reason: (err as Error).message },
      );
    }
  }

  async #discover(): Promise<string> {
    this.#fetches++;
    const doc = (await this.#env.fetchJson(this.#discoveryUrl!, this.timeoutMs)) as { jwks_uri?: unknown } | null;
    const uri = doc?.jwks_uri;
    if (typeof uri !== 'string' || !/^https?:\/\//.test(uri)) {
      throw new Error('OpenID discovery document has no http(s) "jwks_uri"');
    }
    return uri;
  }
}
