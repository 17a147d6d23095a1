/**
 * One DiscoveryResponse's resources, decoded: each `Any` unwrapped (also
 * from an `envoy.service.discovery.v3.Resource` envelope), checked to be of
 * the response's type, decoded, and named. Every problem is reported with
 * the resource's kind and name and the field, so one NACK lists them all.
 */

import type { AnyMessage } from './ads-transport.js';
import { decodeCluster } from './decode-cluster.js';
import { decodeEndpoints } from './decode-endpoints.js';
import { decodeListener } from './decode-listener.js';
import { decodeRouteConfiguration } from './decode-route.js';
import type { Warn } from './decode-route-action.js';
import { typeNameOf, unpackAny } from './envoy-protos.js';
import { FieldError } from './proto-reader.js';
import type { ResourceKind } from './type-state.js';

const RESOURCE_ENVELOPE = 'type.googleapis.com/envoy.service.discovery.v3.Resource';

export interface Decoded<T> {
  readonly received: Map<string, T>;
  readonly errors: string[];
}

export type ResourceDecoder<T> = (raw: Record<string, unknown>, warn: Warn) => { name: string; value: T };

export function decodeResources<T>(typeUrl: string, resources: readonly AnyMessage[], decode: ResourceDecoder<T>, warn: Warn): Decoded<T> {
  const kind = typeNameOf(typeUrl).split('.').pop() ?? typeUrl;
  const received = new Map<string, T>();
  const errors: string[] = [];
  resources.forEach((any, i) => {
    let label = `${kind} resources[${i}]`;
    try {
      let { type_url: url, value } = any;
      if (url === RESOURCE_ENVELOPE) {
        const envelope = unpackAny(url, value) as { resource?: { type_url?: string; value?: Uint8Array } | null };
        url = envelope.resource?.type_url ?? '';
        value = envelope.resource?.value ?? new Uint8Array();
      }
      if (url !== typeUrl) throw new FieldError('type_url', `is ${JSON.stringify(url)}; this response is for ${typeUrl}`);
      let raw: Record<string, unknown>;
      try {
        raw = unpackAny(url, value);
      } catch (err) {
        throw new FieldError('', `does not decode as ${kind} (${(err as Error).message})`);
      }
      const rawName = typeof raw.name === 'string' ? raw.name : typeof raw.cluster_name === 'string' ? raw.cluster_name : '';
      if (rawName !== '') label = `${kind} ${JSON.stringify(rawName)}`;
      const { name, value: decoded } = decode(raw, (path, message) => warn(`${label}${path ? ` ${path}` : ''}`, message));
      if (name === '') throw new FieldError(kind === 'ClusterLoadAssignment' ? 'cluster_name' : 'name', 'is required');
      if (received.has(name)) throw new FieldError('name', 'appears twice in one response');
      received.set(name, decoded);
    } catch (err) {
      // A decoder bug or an unexpected nested type must NACK, never crash the client.
      errors.push(`${label}: ${err instanceof FieldError ? err.message : `could not be decoded (${(err as Error).message})`}`);
    }
  });
  return { received, errors };
}

/** The decoder for one resource type, naming each resource as the control plane does. */
export function decoderFor(kind: ResourceKind): ResourceDecoder<unknown> {
  switch (kind) {
    case 'listener':
      return (raw, warn) => ({ name: String(raw.name ?? ''), value: decodeListener(raw, warn) });
    case 'route':
      return (raw, warn) => ({ name: String(raw.name ?? ''), value: decodeRouteConfiguration(raw, warn) });
    case 'cluster':
      return (raw, warn) => ({ name: String(raw.name ?? ''), value: decodeCluster(raw, warn) });
    default:
      return (raw, warn) => {
        const value = decodeEndpoints(raw, warn);
        return { name: value.clusterName, value };
      };
  }
}
