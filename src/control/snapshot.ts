/**
 * A snapshot: every xDS resource the control plane serves for one validated
 * config, encoded once, with a version. Immutable; a config change builds a
 * new one and the server swaps it in.
 *
 * Each resource type keeps its own version: a type whose resources did not
 * change keeps the version it had, so an edit that touches only endpoints
 * sends clients only a new EDS response.
 */
import { createHash } from 'node:crypto';
import { ConfigError, type ConfigIssue } from '../config/config-error.js';
import { effectiveLoadBalancer } from '../config/lb-levels.js';
import type { MeshConfig } from '../config/schema.js';
import { packAny, TYPE_URL } from '../discovery/xds/envoy-protos.js';
import { hasSourceConditions } from '../routing/route-source.js';
import { clusterResource, clusterSpecs } from './cluster-resources.js';
import { loadAssignment } from './endpoint-resources.js';
import { InboundListeners, inboundDigest } from './inbound-resources.js';
import type { InboundInputs } from './inbound-workload.js';
import { apiListener } from './listener-resources.js';
import { type ClientEndpoints, isRanked, LocalEndpoints, type RankedCluster } from './local-endpoints.js';
import { listenerNames, routeConfigName } from './resource-names.js';
import { routeConfiguration } from './route-resources.js';
import { SourceRoutes } from './source-routes.js';

export const SERVED_TYPES = [TYPE_URL.listener, TYPE_URL.routeConfiguration, TYPE_URL.cluster, TYPE_URL.clusterLoadAssignment] as const;
export type ServedType = (typeof SERVED_TYPES)[number];

export interface SnapshotResource {
  readonly name: string;
  readonly any: { readonly type_url: string; readonly value: Buffer };
  /** Of the encoded bytes: equal hashes mean the client already has it. */
  readonly hash: string;
}

export interface Snapshot {
  readonly version: string;
  readonly createdAt: Date;
  readonly resources: ReadonlyMap<ServedType, ReadonlyMap<string, SnapshotResource>>;
  /** The version each type last changed in. */
  readonly typeVersions: ReadonlyMap<ServedType, string>;
  /** Settings of the config that xDS has no field for, so clients are not told (logged when served). */
  readonly notCarried: readonly string[];
  /** Inbound listeners, built per client on subscription (inbound-resources.ts). */
  readonly inbound: InboundListeners;
  readonly inboundDigest: string;
  /** Route configurations built per client: those with source conditions (source-routes.ts). */
  readonly sourceRoutes: SourceRoutes;
  /** Endpoints ordered per client by locality and failover (local-endpoints.ts); the shared form is in `resources`. */
  readonly localEndpoints: ClientEndpoints;
}

export interface SnapshotOptions {
  /** Put route configurations inside the listeners instead of serving them over RDS. */
  readonly inlineRoutes?: boolean;
  /** Endpoints without a region lie in each client's region (local-endpoints.ts): the Kubernetes input's. */
  readonly oneRegion?: boolean;
}

export function buildSnapshot(config: MeshConfig, version: string, previous?: Snapshot, options: SnapshotOptions = {}): Snapshot {
  const objects = new Map<ServedType, Map<string, Record<string, unknown>>>(SERVED_TYPES.map((t) => [t, new Map()]));
  const issues: ConfigIssue[] = [];
  const listenerOwner = new Map<string, string>();
  const ctx = { services: config.services, mesh: config.mesh };
  const perClient = new Map<string, { name: string; config: (typeof config.services)[string] }>();
  const ranked = new Map<string, RankedCluster>();
  for (const [name, service] of Object.entries(config.services)) {
    const perClientRoutes = hasSourceConditions(service.routes);
    if (perClientRoutes && options.inlineRoutes) {
      issues.push({
        path: `services.${name}.routes`,
        message:
          'has match entries with sourceLabels or sourceNamespace, which are settled per client and so need RDS; run the control plane without --inline-routes',
      });
      continue;
    }
    // Built here for every client alike, or on request for each (source-routes.ts).
    const routes = perClientRoutes ? undefined : routeConfiguration(name, service, ctx);
    if (routes === undefined) perClient.set(routeConfigName(name), { name, config: service });
    else if (!options.inlineRoutes) objects.get(TYPE_URL.routeConfiguration)!.set(routeConfigName(name), routes);
    for (const listener of listenerNames(name, service, config.mesh, config.services)) {
      const owner = listenerOwner.get(listener);
      if (owner !== undefined && owner !== name) {
        issues.push({
          path: `services.${name}`,
          message: `is reached as ${JSON.stringify(listener)}, which is already a name of service "${owner}"; rename one or change its hosts`,
        });
        continue;
      }
      listenerOwner.set(listener, name);
      objects.get(TYPE_URL.listener)!.set(listener, apiListener(listener, options.inlineRoutes && routes !== undefined ? routes : routeConfigName(name)));
    }
    for (const spec of clusterSpecs(name, service, config.mesh)) {
      objects.get(TYPE_URL.cluster)!.set(spec.name, clusterResource(spec, service, config.mesh));
      if (service.discovery === undefined) {
        objects.get(TYPE_URL.clusterLoadAssignment)!.set(spec.name, loadAssignment(spec.name, service, spec.subset));
        const subsetLb = spec.subset !== undefined ? service.subsets?.[spec.subset]?.loadBalancer : undefined;
        const lb = effectiveLoadBalancer([config.mesh.loadBalancer, service.loadBalancer, subsetLb]);
        if (isRanked(service, lb)) ranked.set(spec.name, { config: service, subset: spec.subset, lb });
      }
    }
  }
  if (issues.length > 0) throw new ConfigError('control plane', issues);
  const inputs: InboundInputs = {
    authorizationPolicies: config.authorizationPolicies,
    requestAuthentications: config.requestAuthentications,
    peerAuthentications: config.peerAuthentications ?? [],
    namespace: config.mesh.namespace,
  };
  const digest = inboundDigest(inputs);
  const sourceRoutes = new SourceRoutes(perClient, ctx, (name, object) => encode(TYPE_URL.routeConfiguration, name, object));
  const localEndpoints = new LocalEndpoints(ranked, (name, object) => encode(TYPE_URL.clusterLoadAssignment, name, object), {
    oneRegion: options.oneRegion === true,
  });
  const resources = new Map<ServedType, Map<string, SnapshotResource>>();
  const typeVersions = new Map<ServedType, string>();
  for (const type of SERVED_TYPES) {
    const encoded = new Map<string, SnapshotResource>();
    for (const [name, object] of objects.get(type)!) encoded.set(name, encode(type, name, object));
    resources.set(type, encoded);
    const before = previous?.resources.get(type);
    // Inbound listeners and source-conditioned routes are built per client: a change of their inputs is a change of the type.
    const inboundSame = type !== TYPE_URL.listener || previous?.inboundDigest === digest;
    const routesSame = type !== TYPE_URL.routeConfiguration || previous?.sourceRoutes.digest === sourceRoutes.digest;
    const endpointsSame = type !== TYPE_URL.clusterLoadAssignment || previous?.localEndpoints.digest === localEndpoints.digest;
    const same = before !== undefined && sameResources(before, encoded) && inboundSame && routesSame && endpointsSame;
    typeVersions.set(type, same ? previous!.typeVersions.get(type)! : version);
  }
  const inbound = new InboundListeners(inputs, (name, object) => encode(TYPE_URL.listener, name, object));
  return {
    version,
    createdAt: new Date(),
    resources,
    typeVersions,
    notCarried: notCarried(config),
    inbound,
    inboundDigest: digest,
    sourceRoutes,
    localEndpoints,
  };
}

/** Paths of settings Envoy's resources cannot express; the docs list them too. */
function notCarried(config: MeshConfig): string[] {
  const out: string[] = [];
  for (const [name, service] of Object.entries(config.services)) {
    if (service.hedging !== undefined) out.push(`services.${name}.hedging`);
    if (service.rateLimit !== undefined) out.push(`services.${name}.rateLimit`);
    service.routes?.forEach((route, i) => {
      for (const field of ['hedging', 'rateLimit'] as const) {
        if (route[field] !== undefined) out.push(`services.${name}.routes[${i}].${field}`);
      }
    });
  }
  if (config.mesh.hedging !== undefined) out.push('mesh.hedging');
  return out;
}

function encode(type: ServedType, name: string, object: Record<string, unknown>): SnapshotResource {
  let any: { type_url: string; value: Buffer };
  try {
    any = packAny(type, object);
  } catch (err) {
    // A translation the Envoy schema refuses: report it like bad config, so the last good snapshot stays.
    throw new ConfigError('control plane', [{ path: name, message: `cannot be encoded as ${type}: ${(err as Error).message}` }], err);
  }
  return { name, any, hash: createHash('sha256').update(any.value).digest('base64url') };
}

function sameResources(a: ReadonlyMap<string, SnapshotResource>, b: ReadonlyMap<string, SnapshotResource>): boolean {
  if (a.size !== b.size) return false;
  for (const [name, r] of a) if (b.get(name)?.hash !== r.hash) return false;
  return true;
}
