/**
 * The process's JWKS cache: one RemoteJwks per URI (or per issuer, for
 * OpenID discovery), shared by every authenticator compiled from config, so
 * a config update reuses fetched keys instead of fetching them again.
 *
 * Key fetches are internal traffic. They go out on the cache's own undici
 * Agent, never through the mesh dispatcher, and run in the async context the
 * cache was created in: a fetch triggered by a request does not become a
 * child of that request's trace, and the refresh timer does not keep the
 * request's context alive.
 */
import { AsyncResource } from 'node:async_hooks';
import { Agent, type Dispatcher } from 'undici';
import { MeshError } from '../../errors.js';
import { monotonicNow } from '../../net/monotonic-clock.js';
import { type MeshLogger, stderrLogger } from '../../telemetry/logger.js';
import { fetchJsonDocument } from './jwks-fetch.js';
import { type JwksStats, RemoteJwks, type RemoteJwksEnv } from './remote-jwks.js';

export interface JwksCacheOptions {
  /** Periodic refresh (default 20 min, as istiod refreshes JWKS). */
  readonly refreshIntervalMs?: number;
  /** At most one fetch per URI in this window when a token names an unknown key (default 30 s). */
  readonly minRefreshIntervalMs?: number;
  /** Per-fetch timeout when the rule sets none (default 5 s, Istio's default). */
  readonly timeoutMs?: number;
  /** Largest JWKS document accepted (default 512 KiB). */
  readonly maxBytes?: number;
  /** Where fetches go out; default an Agent of the cache's own, closed with it. */
  readonly dispatcher?: Dispatcher;
  readonly logger?: MeshLogger;
  /** Monotonic milliseconds, for the rate limit (default the mesh's monotonic clock). */
  readonly now?: () => number;
}

export class JwksCache {
  readonly defaultTimeoutMs: number;
  readonly #entries = new Map<string, RemoteJwks>();
  readonly #env: RemoteJwksEnv;
  readonly #scope = new AsyncResource('proxyless.JwksCache');
  readonly #maxBytes: number;
  readonly #ownDispatcher: boolean;
  #dispatcher: Dispatcher | undefined;
  #closed = false;

  constructor(options: JwksCacheOptions = {}) {
    this.defaultTimeoutMs = options.timeoutMs ?? 5000;
    this.#maxBytes = options.maxBytes ?? 512 * 1024;
    this.#dispatcher = options.dispatcher;
    this.#ownDispatcher = options.dispatcher === undefined;
    this.#env = {
      fetchJson: (url, timeoutMs) =>
        this.#scope.runInAsyncScope(() =>
          fetchJsonDocument(url, { dispatcher: this.#agent(), timeoutMs, maxBytes: this.#maxBytes }),
        ),
      detached: (fn) => this.#scope.runInAsyncScope(fn),
      refreshIntervalMs: options.refreshIntervalMs ?? 20 * 60_000,
      minRefreshIntervalMs: options.minRefreshIntervalMs ?? 30_000,
      now: options.now ?? monotonicNow,
      logger: options.logger ?? stderrLogger(),
    };
  }

  /**
   * The key set for a JWKS URI, or for an issuer's OpenID discovery when
   * `jwksUri` is undefined. Counts a reference; `release()` it when the
   * authenticator using it is replaced. Nothing is fetched until a token
   * needs the keys, or `prefetch()` is called.
   */
  acquire(jwksUri: string | undefined, issuer: string, timeoutMs: number | undefined): RemoteJwks {
    if (this.#closed) throw new MeshError('MESH_CLOSED', 'the JWKS cache is closed');
    const key = jwksUri ?? `oidc:${issuer}`;
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      const source = jwksUri === undefined ? { issuer } : { jwksUri };
      entry = new RemoteJwks(source, timeoutMs ?? this.defaultTimeoutMs, this.#env);
      this.#entries.set(key, entry);
    } else if (timeoutMs !== undefined) {
      // The newest config's timeout wins for a URI shared by several rules.
      entry.timeoutMs = timeoutMs;
    }
    entry.refs++;
    return entry;
  }

  /** Drop one reference; at zero the key set's timer stops and it is forgotten. */
  release(entry: RemoteJwks): void {
    if (--entry.refs > 0) return;
    for (const [key, e] of this.#entries) {
      if (e === entry) {
        this.#entries.delete(key);
        entry.stop();
        break;
      }
    }
  }

  /** Fetch every key set that has no keys yet (e.g. at startup); resolves when all attempts are done. */
  async prefetch(): Promise<void> {
    await Promise.all([...this.#entries.values()].map((e) => (e.hasKeys ? e.settled() : e.refresh())));
  }

  /** Resolves when no fetch is in flight. */
  async settled(): Promise<void> {
    await Promise.all([...this.#entries.values()].map((e) => e.settled()));
  }

  stats(): JwksStats[] {
    return [...this.#entries.values()].map((e) => e.stats());
  }

  /** Stop every timer and close the cache's own connections. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const entry of this.#entries.values()) entry.stop();
    this.#entries.clear();
    if (this.#ownDispatcher && this.#dispatcher !== undefined) await this.#dispatcher.close();
  }

  #agent(): Dispatcher {
    this.#dispatcher ??= new Agent({ connections: 4 });
    return this.#dispatcher;
  }
}
