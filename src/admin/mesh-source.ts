/**
 * The admin endpoint's view of a running mesh: its destinations and
 * endpoints, its config with every source, its recent config changes and
 * its metrics registry. Read on request only; nothing here runs per call.
 */
import type { Destination } from '../client/destination.js';
import type { ConfigHistory } from '../config/history.js';
import type { ConfigStore } from '../config/store.js';
import { monotonicNow } from '../net/monotonic-clock.js';
import type { AnyRegistry } from '../telemetry/metrics/any-registry.js';
import type { AdminSource, ClusterView, EndpointView } from './admin-source.js';

export interface MeshParts {
  readonly registry: AnyRegistry;
  readonly destinations: () => readonly Destination[];
  readonly config: ConfigStore;
  readonly history: ConfigHistory;
  readonly ready: () => boolean;
  /** What the xDS client was told, when one runs (docs/xds.md). */
  readonly xds?: () => unknown;
}

export function meshAdminSource(parts: MeshParts): AdminSource {
  return {
    registry: parts.registry,
    ready: parts.ready,
    configDump: () => {
      const snapshot = parts.config.current;
      const rejection = parts.config.lastRejection;
      return {
        version: snapshot.version,
        appliedAt: snapshot.appliedAt.toISOString(),
        // Each source with the version it last contributed (precedence: options > env > xds > file).
        sources: snapshot.sources.map((s) => ({ ...s, updatedAt: s.updatedAt.toISOString() })),
        lastRejection:
          rejection === undefined ? null : { layer: rejection.layer, at: rejection.at.toISOString(), error: rejection.error.message },
        // The model holds no secrets: certificates are referenced by directory, JWKS are public keys.
        config: snapshot.config,
        // Per xDS type: the accepted version, the last NACK and its reason, the connection state.
        xds: parts.xds?.() ?? null,
      };
    },
    clusters: () => parts.destinations().map(clusterView),
    configChanges: () => parts.history.entries(),
  };
}

function clusterView(d: Destination): ClusterView {
  const now = monotonicNow();
  const wallNow = Date.now();
  return {
    service: d.name,
    namespace: d.namespace,
    circuit: d.breaker?.state ?? 'none',
    loadBalancer: d.loadBalancerPolicy,
    discoveryError: d.lastError?.message,
    endpoints: d.upstreams.map(
      (u): EndpointView => ({
        address: u.key,
        weight: u.endpoint.weight,
        warmth: u.warmth,
        region: u.region,
        zone: u.zone,
        priority: u.priority,
        health: u.endpoint.health,
        ejected: u.outlier?.ejected === true,
        // The detector's clock is performance.now(); the view speaks epoch ms.
        ejectedUntil: u.outlier?.ejected === true ? wallNow + (u.outlier.ejectedUntil - now) : undefined,
        inFlight: u.inFlight,
        ewmaMs: u.latencyCost(now),
        labels: u.endpoint.labels,
      }),
    ),
  };
}
