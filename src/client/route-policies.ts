/**
 * A destination's routes, compiled with everything a call on each route
 * needs (targets resolved to clusters, merged retry policy, timeout, hedge,
 * rate limit). Built once per config update; `match` is the only per-request
 * work.
 */
import type { MeshSettings, ServiceConfig } from '../config/schema.js';
import { TokenBucket } from '../resilience/rate-limit.js';
import { compileRetryPolicy } from '../resilience/retry-policy.js';
import { type CompiledRoute, compileRouteTable, type RouteRequest, type RouteTable } from '../routing/route-table.js';
import { type CallPolicy, type HedgePolicy, makeCallPolicy, makeTarget } from './call-policy.js';
import type { Cluster } from './call-types.js';

/** Request bodies up to this size are kept for retries, hedges and mirrors (Linkerd uses the same 64 KiB). */
export const DEFAULT_RETRY_BUFFER_BYTES = 64 * 1024;

export class RoutePolicies {
  readonly table: RouteTable;
  readonly #byIndex: readonly CallPolicy[];

  constructor(table: RouteTable, policies: readonly CallPolicy[]) {
    this.table = table;
    this.#byIndex = policies;
  }

  match(request: RouteRequest): CallPolicy | undefined {
    const route = this.table.match(request);
    return route === undefined ? undefined : this.#byIndex[route.index];
  }

  get policies(): readonly CallPolicy[] {
    return this.#byIndex;
  }
}

function hedgeOf(raw: unknown): HedgePolicy | undefined {
  if (raw === undefined || raw === null) return undefined;
  const h = raw as { delay?: number | 'p95'; maxRequests?: number };
  if (h.delay === undefined) return undefined;
  return { delay: h.delay, maxRequests: h.maxRequests ?? 1 };
}

function bucketOf(raw: unknown): TokenBucket | undefined {
  if (raw === undefined || raw === null) return undefined;
  const r = raw as { maxTokens?: number; tokensPerFill?: number; fillInterval?: number };
  const max = r.maxTokens ?? r.tokensPerFill ?? 100;
  return new TokenBucket({ maxTokens: max, tokensPerFill: r.tokensPerFill ?? max, fillIntervalMs: r.fillInterval ?? 1000 });
}

/**
 * `resolve` finds the cluster for a service named by a route (the owning
 * service when the route names none). Config validation has already
 * checked that every named service and subset exists.
 */
export function compileRoutePolicies(
  owner: Cluster,
  service: ServiceConfig,
  mesh: MeshSettings,
  resolve: (service: string) => Cluster | undefined,
): RoutePolicies {
  const table = compileRouteTable(owner.name, service.routes ?? [], { namespace: mesh.namespace, labels: mesh.labels ?? {} });
  const clusterOf = (name: string): Cluster => (name === owner.name ? owner : (resolve(name) ?? owner));
  const policies = table.routes.map((route: CompiledRoute) => {
    const cfg = route.config as Partial<ServiceConfig> & { retries?: unknown; hedging?: unknown; rateLimit?: unknown };
    const targets = route.backends.map((b) => makeTarget(route, b, clusterOf(b.service), b.subset));
    const mirrors = route.mirrors.map((m) => makeTarget(route, undefined, clusterOf(m.service), m.subset));
    return makeCallPolicy({
      route,
      targets: targets.length > 0 ? targets : [makeTarget(route, undefined, owner, undefined)],
      mirrors,
      retry: compileRetryPolicy([mesh.retries, service.retries, cfg?.retries as never]),
      timeoutMs: route.timeoutMs ?? service.timeout ?? mesh.timeout,
      hedge: hedgeOf(cfg?.hedging ?? service.hedging ?? mesh.hedging),
      rateLimit: bucketOf(cfg?.rateLimit),
      replayCap: mesh.retryBufferBytes ?? DEFAULT_RETRY_BUFFER_BYTES,
    });
  });
  return new RoutePolicies(table, policies);
}
