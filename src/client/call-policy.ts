/**
 * Everything a call needs to know about its route, compiled once per config
 * update: the matched route's targets resolved to clusters, its retry policy
 * merged mesh → service → route, its timeout, hedging and rate limit. The
 * hot path only reads these values.
 */

import type { TokenBucket } from '../resilience/rate-limit.js';
import type { RetryPolicy } from '../resilience/retry-policy.js';
import type { HeaderMutation } from '../routing/header-mutation.js';
import { mergeMutations } from '../routing/header-mutation.js';
import type { CompiledRoute, RouteBackend } from '../routing/route-table.js';
import type { Cluster } from './call-types.js';

export interface RouteTarget {
  readonly cluster: Cluster;
  readonly subset: string | undefined;
  readonly requestHeaders: HeaderMutation | undefined;
  readonly responseHeaders: HeaderMutation | undefined;
}

export interface HedgePolicy {
  /** A fixed delay in ms, or 'p95' for the cluster's observed 95th percentile. */
  readonly delay: number | 'p95';
  /** Backup requests allowed on top of the first. */
  readonly maxRequests: number;
}

export interface CallPolicy {
  readonly route: CompiledRoute;
  /** Parallel to `route.backends`. */
  readonly targets: readonly RouteTarget[];
  /** Parallel to `route.mirrors`. */
  readonly mirrors: readonly RouteTarget[];
  readonly retry: RetryPolicy;
  readonly timeoutMs: number | undefined;
  readonly hedge: HedgePolicy | undefined;
  /** The route's own bucket; the cluster's bucket is checked as well. */
  readonly rateLimit: TokenBucket | undefined;
  /** Request body bytes buffered for replay; a larger body is sent once. */
  readonly replayCap: number;
  /** The target a draw in [0, 1) lands on. */
  pickTarget(r: number): RouteTarget;
}

export function makeTarget(
  route: CompiledRoute,
  backend: RouteBackend | undefined,
  cluster: Cluster,
  subset: string | undefined,
): RouteTarget {
  return {
    cluster,
    subset,
    requestHeaders: mergeMutations(route.requestHeaders, backend?.requestHeaders),
    responseHeaders: mergeMutations(route.responseHeaders, backend?.responseHeaders),
  };
}

export function makeCallPolicy(fields: Omit<CallPolicy, 'pickTarget'>): CallPolicy {
  const { route, targets } = fields;
  const byBackend = new Map<RouteBackend, RouteTarget>();
  route.backends.forEach((b, i) => {
    const t = targets[i];
    if (t !== undefined) byBackend.set(b, t);
  });
  const only = targets.length === 1 ? targets[0] : undefined;
  return {
    ...fields,
    pickTarget:
      only !== undefined
        ? () => only
        : (r) => byBackend.get(route.pickBackend(r)) ?? (targets[0] as RouteTarget),
  };
}
