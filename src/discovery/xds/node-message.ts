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

export function nodeMessage(b: XdsBootstrap): Record<string, unknown> {
  return {
    id: b.node.id,
    cluster: b.node.cluster,
    metadata: toStruct(b.node.metadata),
    locality: { region: b.node.locality.region, zone: b.node.locality.zone, sub_zone: b.node.locality.subZone },
    user_agent_name: 'proxyless',
    user_agent_version: 'node',
    // As gRPC's clients say: resources may come wrapped in a Resource envelope.
    client_features: ['envoy.lb.does_not_support_overprovisioning', 'xds.config.resource-in-sotw'],
  };
}
