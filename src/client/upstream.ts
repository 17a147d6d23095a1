/**
 * The endpoint tier: one live object per endpoint, kept across endpoint-set
 * updates by key. It owns the endpoint's connection pools and the counters the
 * pickers read (in-flight, peak-EWMA latency). Pools are keyed by the logical
 * origin so the Host header and TLS server name stay logical for free: undici
 * writes the pool's origin as Host, and the connector dials the endpoint's
 * address instead of resolving the logical name.
 */
import { buildConnector, type Dispatcher, Pool } from 'undici';
import type { TieredEndpoint } from '../balancer/locality.js';
import type { OutlierState } from '../balancer/outlier-detection.js';
import { PeakEwma } from '../balancer/peak-ewma.js';
import type { WarmingEndpoint } from '../balancer/warmup-ramp.js';
import type { Endpoint } from '../discovery/endpoint.js';
import { type DialOptions, dialOptions } from '../net/dial-options.js';
import type { TransportSecurity } from '../security/tls/transport-security.js';

export interface PoolSettings {
  /** Max connections per endpoint and origin; unlimited when undefined (undici's default). */
  readonly connections?: number;
  readonly keepAliveTimeout?: number;
  readonly connectTimeout?: number;
  /** Idle time before TCP keepalive probes start (connectionPool.tcpKeepalive.time); undici's 60 s when undefined. */
  readonly keepAliveProbeDelay?: number;
  /** Requests per connection before undici closes it; unlimited when undefined. */
  readonly maxRequestsPerConnection?: number;
  /**
   * The longest a connection stays idle (config's connectionPool.idleTimeout),
   * a cap as Envoy's idle_timeout is: a server's Keep-Alive hint may shorten
   * it, never lengthen it. keepAliveTimeout, by contrast, yields to the hint.
   */
  readonly idleTimeout?: number;
  /** Extra TLS settings for https origins (trusted CAs, client certificate). */
  readonly tls?: {
    readonly ca?: string | Buffer | Array<string | Buffer>;
    readonly cert?: string | Buffer;
    readonly key?: string | Buffer;
  };
}

/** One endpoint's pool: the settings above, and what the destination's config adds. */
export interface EndpointPoolSettings extends PoolSettings {
  /**
   * mTLS or TLS that the mesh adds to a plain `http://` call (the destination's
   * `tls` setting); undefined leaves the connection as the URL says.
   */
  readonly security?: TransportSecurity;
}

/**
 * A failed attempt is charged as this much latency, so a replica that fails
 * fast (connection refused) does not look like the fastest one to peak-EWMA.
 * It must dwarf a live replica's cost under load (latency × in-flight, with
 * a warm-up peak that decays over 10 s), or a dead replica keeps winning
 * picks. The estimate decays (tau 10 s), so the replica is probed again once
 * it falls below its rivals' cost: 10 s × ln(10 000 / rival cost in ms),
 * about 46 s against 100 ms rivals.
 */
const FAILURE_PENALTY_MS = 10_000;

export class Upstream implements TieredEndpoint, WarmingEndpoint {
  endpoint: Endpoint;
  inFlight = 0;
  /** Outlier-detection state; undefined when detection is off for the service. */
  outlier: OutlierState | undefined;
  /** The share of its weight a new endpoint gets while it warms up (the service's WarmupRamp sets it). */
  warmth = 1;
  readonly #ewma = new PeakEwma();
  readonly #pools = new Map<string, Pool>();
  readonly #settings: EndpointPoolSettings;
  #closed = false;

  constructor(endpoint: Endpoint, settings: EndpointPoolSettings) {
    this.endpoint = endpoint;
    this.#settings = settings;
  }

  get key(): string {
    return this.endpoint.key;
  }
  /** The weight pickers see: discovery's, scaled down while the endpoint warms up. */
  get weight(): number {
    return this.endpoint.weight * this.warmth;
  }
  /** Ready by discovery: what starts an endpoint's warmup (outlier ejection does not). */
  get ready(): boolean {
    return this.endpoint.health === 'healthy';
  }
  get region(): string {
    return this.endpoint.region;
  }
  get labels(): Readonly<Record<string, string>> {
    return this.endpoint.labels;
  }
  get zone(): string {
    return this.endpoint.zone;
  }
  get priority(): number {
    return this.endpoint.priority;
  }
  get localityWeight(): number | undefined {
    return this.endpoint.localityWeight;
  }
  /** Healthy by discovery and not ejected by outlier detection. */
  get healthy(): boolean {
    return this.endpoint.health === 'healthy' && this.outlier?.ejected !== true;
  }

  latencyCost(now: number): number {
    return this.#ewma.cost(now);
  }

  /** Record a finished attempt: `rttMs` to response headers, or a failure. */
  observe(rttMs: number, now: number, failed: boolean): void {
    this.#ewma.observe(failed ? Math.max(rttMs, FAILURE_PENALTY_MS) : rttMs, now);
  }

  /** The keep-alive pool for one logical origin on this endpoint. */
  pool(origin: string): Dispatcher {
    let pool = this.#pools.get(origin);
    if (pool === undefined) {
      pool = this.#createPool(origin);
      this.#pools.set(origin, pool);
    }
    return pool;
  }

  #createPool(origin: string): Pool {
    const url = new URL(origin);
    const { address, port } = this.endpoint;
    const dial: DialOptions = { timeoutMs: this.#settings.connectTimeout ?? 10_000, keepAliveProbeDelay: this.#settings.keepAliveProbeDelay };
    const security = url.protocol === 'http:' ? this.#settings.security : undefined;
    const connect: buildConnector.connector =
      security !== undefined ? security.connector(address, port, url.hostname, dial) : this.#plainConnector(url, dial);
    return new Pool(origin, {
      connect,
      ...(this.#settings.connections !== undefined ? { connections: this.#settings.connections } : {}),
      ...idleSettings(this.#settings),
      ...(this.#settings.maxRequestsPerConnection !== undefined ? { maxRequestsPerClient: this.#settings.maxRequestsPerConnection } : {}),
    });
  }

  #plainConnector(url: URL, dial: DialOptions): buildConnector.connector {
    const tls = url.protocol === 'https:';
    const base = buildConnector({
      ...dialOptions(dial),
      ...(tls ? { servername: url.hostname, ...this.#settings.tls } : {}),
    });
    const { address, port } = this.endpoint;
    return (opts, callback) => base({ ...opts, hostname: address, host: address, port: String(port) }, callback);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Let in-flight requests finish, then close every connection. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#pools.values()].map((p) => p.close()));
  }

  async destroy(err?: Error): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#pools.values()].map((p) => p.destroy(err ?? null)));
  }
}

/** undici's idle-connection options: its keepAliveMaxTimeout bounds the server's hint, so the idle timeout is set as both. */
function idleSettings(settings: PoolSettings): { keepAliveTimeout?: number; keepAliveMaxTimeout?: number } {
  if (settings.idleTimeout !== undefined) return { keepAliveTimeout: settings.idleTimeout, keepAliveMaxTimeout: settings.idleTimeout };
  return settings.keepAliveTimeout !== undefined ? { keepAliveTimeout: settings.keepAliveTimeout } : {};
}
