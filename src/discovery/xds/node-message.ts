/**
 * The `node` an ADS request carries, in proto-loader's shape. Metadata is a
 * google.protobuf.Struct, whose fields protobufjs names in camelCase whatever
 * `keepCase` says (it is a built-in well-known type).
 */
import type { XdsBootstrap } from './bootstrap.js';

function toValue(v: unknown): Record<string, unknown> {
  if (v === null || v === undefined) return { nullValue: 'NULL_VALUE' };
  if (typeof v === 'number') return { numberValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (typeof v === 'string') return { stringValue: v };
  if (Array.isArray(v)) return { listValue: { values: v.map(toValue) } };
  if (typeof v === 'object') return { structValue: toStruct(v as Record<string, unknown>) };
  return { stringValue: String(v) };
}

export function toStruct(obj: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return { fields: Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, toValue(v)])) };
}

/** This process's place in the mesh, as its config says (mesh.region, mesh.zone, mesh.labels). */
export interface NodePlace {
  readonly region: string;
  readonly zone: string;
  readonly labels: Readonly<Record<string, string>>;
  /** mesh.namespace: the node's NAMESPACE when the bootstrap has none, and the namespace a bare listener host is in. */
  readonly namespace?: string | undefined;
  /** mesh.clusterDomain, for the Kubernetes names a listener stands for. */
  readonly clusterDomain?: string | undefined;
}

/**
 * What the bootstrap's node leaves out is filled from `place`, as Istio's
 * agent fills a gRPC bootstrap's locality, LABELS and NAMESPACE: the control
 * plane orders endpoints and picks routes for this client by them, so it must
 * see the locality, labels and namespace the mesh runs with. A bootstrap that
 * sets them wins.
 */
export function nodeMessage(b: XdsBootstrap, place?: NodePlace): Record<string, unknown> {
  const written = b.node.locality;
  const unset = written.region === '' && written.zone === '' && written.subZone === '';
  const locality = unset && place !== undefined ? { region: place.region, zone: place.zone, subZone: '' } : written;
  const labels = place !== undefined && Object.keys(place.labels).length > 0 ? place.labels : undefined;
  let metadata = b.node.metadata.LABELS === undefined && labels !== undefined ? { ...b.node.metadata, LABELS: labels } : b.node.metadata;
  if (metadata.NAMESPACE === undefined && place?.namespace !== undefined) metadata = { ...metadata, NAMESPACE: place.namespace };
  return {
    id: b.node.id,
    cluster: b.node.cluster,
    metadata: toStruct(metadata),
    locality: { region: locality.region, zone: locality.zone, sub_zone: locality.subZone },
    user_agent_name: 'proxyless',
    user_agent_version: 'node',
    // As gRPC's clients say: resources may come wrapped in a Resource envelope.
    client_features: ['envoy.lb.does_not_support_overprovisioning', 'xds.config.resource-in-sotw'],
  };
}
