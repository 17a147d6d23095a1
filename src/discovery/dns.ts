/**
 * The `dns:` discovery provider. Target paths:
 * - `host:port`            A and AAAA for host, each address on port;
 * - `host`                 the same, on the target's default (service) port;
 * - `_service._proto.name` SRV; each record's target host is resolved to
 *                          A/AAAA (IP literals pass through) and carries the
 *                          record's port, weight and priority.
 * gRPC's `dns:///host:port` spelling (empty authority) is accepted too.
 *
 * Every watch re-resolves on a fixed interval (5 s by default, Envoy's
 * dns_refresh_rate), one round at a time, and calls `next()` only when the
 * resolved set differs from the one last delivered or is the first good one
 * after a failure. Failures keep the last good set. Record TTLs are not
 * honoured: like Envoy's default (respect_dns_ttl: false), a fixed rate keeps
 * the load on the DNS server predictable, and TTL-0 records cannot turn into a
 * query loop.
 */
import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import { MeshError } from '../errors.js';
import { type DnsQuery, parseTarget } from './dns-target.js';
import { type Endpoint, makeEndpoint, sameEndpointSet } from './endpoint.js';
import { rejectedWatch } from './rejected-watch.js';
import type { DiscoveryProvider, DiscoveryTarget, EndpointListener, EndpointWatch } from './source.js';

export const DEFAULT_DNS_REFRESH_INTERVAL_MS = 5000;
/** First retry after a failed round; doubles per failure, capped at the refresh interval. */
const FIRST_RETRY_MS = 500;
/** Longest delay `setTimeout` honours; larger values would fire at once. */
const MAX_TIMER_MS = 2_147_483_647;
/** Answers that say "no such records", as opposed to "could not find out". */
const NO_RECORDS = new Set(['ENODATA', 'ENOTFOUND']);

export interface DnsSrvRecord {
  name: string;
  port: number;
  priority: number;
  weight: number;
}

/** The part of `node:dns/promises` `Resolver` the provider uses; tests or users may supply their own. */
export interface DnsResolver {
  resolve4(hostname: string): Promise<string[]>;
  resolve6(hostname: string): Promise<string[]>;
  resolveSrv(hostname: string): Promise<DnsSrvRecord[]>;
}

export interface DnsProviderOptions {
  /**
   * Re-resolution period in ms when the target names none (default 5000).
   * A target's own `refreshIntervalMs` (from `mesh.dnsRefreshInterval`) wins.
   */
  refreshIntervalMs?: number;
  /** DNS servers (`1.2.3.4`, `1.2.3.4:5353`, `[::1]:53`); default: the system's. */
  servers?: string[];
  /** Per-try query timeout in ms; default: Node's (c-ares') default. */
  timeoutMs?: number;
  /** Attempts per server before a query fails; default: Node's. */
  tries?: number;
  /** Use this resolver instead of creating one; `servers`, `timeoutMs` and `tries` are then ignored. */
  resolver?: DnsResolver;
}

/** One failed lookup: which record type of which name, and the resolver's code. */
class LookupFailure {
  constructor(
    readonly rrtype: string,
    readonly name: string,
    readonly code: string,
    readonly cause?: unknown,
  ) {}
}

export function dnsProvider(options: DnsProviderOptions = {}): DiscoveryProvider {
  const defaultInterval = options.refreshIntervalMs ?? DEFAULT_DNS_REFRESH_INTERVAL_MS;
  const intervalProblem = checkInterval(defaultInterval);
  if (intervalProblem !== undefined) throw new MeshError('MESH_INVALID_ARGUMENT', `dns ${intervalProblem}`);
  const owned = options.resolver === undefined ? createResolver(options) : undefined;
  const resolver: DnsResolver = options.resolver ?? owned!;
  const watches = new Set<EndpointWatch>();
  let closed = false;

  return {
    scheme: 'dns',
    validate(target) {
      const query = parseTarget(target);
      if (typeof query === 'string') return query;
      return target.refreshIntervalMs === undefined ? undefined : checkInterval(target.refreshIntervalMs);
    },
    watch(target, listener) {
      if (closed) throw new MeshError('MESH_CLOSED', `dns discovery provider is closed; cannot watch ${target.uri}`);
      const interval = target.refreshIntervalMs ?? defaultInterval;
      const query = parseTarget(target);
      const problem = typeof query === 'string' ? query : checkInterval(interval);
      const onClose = () => watches.delete(watch);
      const watch =
        typeof query === 'string' || problem !== undefined
          ? rejectedWatch(target, problem ?? '', listener, onClose)
          : startWatch(resolver, Math.min(interval, MAX_TIMER_MS), target, query, listener, onClose);
      watches.add(watch);
      return watch;
    },
    close() {
      closed = true;
      for (const w of [...watches]) w.close();
      // In-flight queries would otherwise keep sockets busy until they time out.
      owned?.cancel();
    },
  };
}

/** Zero would re-query in a tight loop, so it is refused rather than clamped. */
function checkInterval(ms: number): string | undefined {
  return Number.isFinite(ms) && ms > 0 ? undefined : `refresh interval must be a positive number of ms, got ${ms}`;
}

function createResolver(options: DnsProviderOptions): Resolver {
  const resolver = new Resolver({
    ...(options.timeoutMs !== undefined && { timeout: options.timeoutMs }),
    ...(options.tries !== undefined && { tries: options.tries }),
  });
  if (options.servers !== undefined) {
    try {
      resolver.setServers(options.servers);
    } catch (cause) {
      throw new MeshError('MESH_INVALID_ARGUMENT', `dns servers ${JSON.stringify(options.servers)}: ${String(cause)}`, {
        cause,
      });
    }
  }
  return resolver;
}

function startWatch(
  resolver: DnsResolver,
  refreshMs: number,
  target: DiscoveryTarget,
  query: DnsQuery,
  listener: EndpointListener,
  onClose: () => void,
): EndpointWatch {
  let open = true;
  let timer: NodeJS.Timeout | undefined;
  let delivered: readonly Endpoint[] | undefined;
  let failures = 0;

  const schedule = (ms: number) => {
    timer = setTimeout(round, ms);
    // A discovery refresh must never keep the process alive.
    timer.unref();
  };

  const round = async () => {
    timer = undefined;
    let result: Endpoint[] | LookupFailure;
    try {
      result = await resolveQuery(resolver, query);
    } catch (err) {
      result = err instanceof LookupFailure ? err : new LookupFailure('DNS', target.path, codeOf(err), err);
    }
    if (!open) return;
    if (result instanceof LookupFailure) {
      failures++;
      // Retry soon at first (a failure at startup leaves the service with no
      // endpoints at all), backing off to the normal interval so a long
      // outage costs the DNS server no more than normal refreshes do.
      if (query.kind !== 'ip') schedule(Math.min(refreshMs, FIRST_RETRY_MS * 2 ** (failures - 1)));
      listener.error(failureError(target, result, delivered));
      return;
    }
    const recovered = failures > 0;
    failures = 0;
    // IP literals never change, so one delivery is enough.
    if (query.kind !== 'ip') schedule(refreshMs);
    // The first good round after failures is delivered even when unchanged:
    // it is the consumer's only signal that the error has cleared.
    if (delivered === undefined || recovered || !sameEndpointSet(delivered, result)) {
      delivered = result;
      listener.next(result);
    }
  };

  // Queued, not run inline: the listener must never be called from watch().
  queueMicrotask(() => {
    if (open) void round();
  });

  return {
    close() {
      if (!open) return;
      open = false;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      onClose();
    },
  };
}


function failureError(target: DiscoveryTarget, f: LookupFailure, kept: readonly Endpoint[] | undefined): MeshError {
  const keeping =
    kept === undefined ? 'no endpoints known yet' : `keeping the last ${kept.length} endpoint(s) and retrying`;
  return new MeshError(
    'MESH_DISCOVERY_FAILED',
    `DNS discovery for service "${target.service}" failed: ${f.rrtype} lookup of ${f.name}: ${f.code}; ${keeping}`,
    {
      cause: f.cause,
      details: { service: target.service, uri: target.uri, name: f.name, rrtype: f.rrtype, dnsCode: f.code },
    },
  );
}

async function resolveQuery(resolver: DnsResolver, query: DnsQuery): Promise<Endpoint[]> {
  switch (query.kind) {
    case 'ip':
      return [makeEndpoint({ address: query.address, port: query.port })];
    case 'host': {
      const addresses = await resolveAddresses(resolver, query.host);
      return sortByKey(dedupe(addresses.map((address) => makeEndpoint({ address, port: query.port }))));
    }
    case 'srv':
      return resolveSrv(resolver, query.name);
  }
}

/**
 * A and AAAA together. "No records" for one family while the other answers is
 * normal (v4-only or v6-only services); any other error fails the round, so a
 * flaky AAAA query never silently drops the service's IPv6 endpoints.
 */
async function resolveAddresses(resolver: DnsResolver, host: string): Promise<string[]> {
  if (isIP(host) !== 0) return [host];
  const [v4, v6] = await Promise.allSettled([resolver.resolve4(host), resolver.resolve6(host)]);
  const addresses: string[] = [];
  let nameMissing = false;
  for (const [rrtype, r] of [['A', v4] as const, ['AAAA', v6] as const]) {
    if (r.status === 'fulfilled') {
      addresses.push(...r.value);
    } else {
      const code = codeOf(r.reason);
      if (!NO_RECORDS.has(code)) throw new LookupFailure(rrtype, host, code, r.reason);
      if (code === 'ENOTFOUND') nameMissing = true;
    }
  }
  if (addresses.length === 0) throw new LookupFailure('A/AAAA', host, nameMissing ? 'ENOTFOUND' : 'ENODATA');
  return addresses;
}

async function resolveSrv(resolver: DnsResolver, name: string): Promise<Endpoint[]> {
  let records: DnsSrvRecord[];
  try {
    records = await resolver.resolveSrv(name);
  } catch (err) {
    throw new LookupFailure('SRV', name, codeOf(err), err);
  }
  // A lone "." target means the service is decidedly not offered (RFC 2782).
  const usable = records.filter((r) => r.name !== '' && r.name !== '.');
  if (usable.length === 0) return [];

  // Each distinct target host is looked up once, however many records name it.
  const lookups = new Map<string, Promise<string[] | LookupFailure>>();
  for (const r of usable) {
    if (!lookups.has(r.name)) {
      lookups.set(
        r.name,
        resolveAddresses(resolver, r.name).catch((err: unknown) =>
          err instanceof LookupFailure ? err : new LookupFailure('A/AAAA', r.name, codeOf(err), err),
        ),
      );
    }
  }
  const resolved = new Map<string, string[]>();
  let missing: LookupFailure | undefined;
  for (const [host, lookup] of lookups) {
    const result = await lookup;
    if (!(result instanceof LookupFailure)) resolved.set(host, result);
    // A target that does not exist is a stale record: skip it, serve the rest.
    else if (NO_RECORDS.has(result.code)) missing ??= result;
    else throw result;
  }
  if (resolved.size === 0) throw missing ?? new LookupFailure('SRV', name, 'ENODATA');

  // SRV priorities are arbitrary numbers (10, 20, …); endpoints want dense
  // failover tiers (0, 1, …), counted over the targets that resolved.
  const kept = usable.filter((r) => resolved.has(r.name));
  const tiers = [...new Set(kept.map((r) => r.priority))].sort((a, b) => a - b);
  // Most preferred first, so dedupe() keeps the best record for an address.
  kept.sort((a, b) => a.priority - b.priority || b.weight - a.weight);
  const endpoints: Endpoint[] = [];
  for (const r of kept) {
    for (const address of resolved.get(r.name) ?? []) {
      endpoints.push(
        makeEndpoint({
          address,
          port: r.port,
          // Every address of a target gets the record's weight; SRV weight 0
          // ("pick rarely") becomes 1, the smallest weight an endpoint has.
          weight: Math.max(1, r.weight),
          priority: tiers.indexOf(r.priority),
        }),
      );
    }
  }
  return sortByKey(dedupe(endpoints));
}

function dedupe(endpoints: Endpoint[]): Endpoint[] {
  const seen = new Set<string>();
  return endpoints.filter((e) => !seen.has(e.key) && seen.add(e.key));
}

function sortByKey(endpoints: Endpoint[]): Endpoint[] {
  return endpoints.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** Both sets are sorted by key, so a pairwise walk compares them. */

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'EUNKNOWN';
}
