/**
 * A Cluster's HTTP connection options, as Envoy (and istiod, from a
 * DestinationRule's connectionPool.http) writes them: the
 * `envoy.extensions.upstreams.http.v3.HttpProtocolOptions` entry of
 * `typed_extension_protocol_options`, whose `common_http_protocol_options`
 * hold the idle timeout and the requests per connection, or the Cluster's
 * deprecated `max_requests_per_connection`. The model's connectionPool
 * fields `idleTimeout` and `maxRequestsPerConnection`.
 */

import type { Warn } from './decode-route-action.js';
import { unpackAny } from './envoy-protos.js';
import { ProtoReader } from './proto-reader.js';

export const HTTP_PROTOCOL_OPTIONS = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';
export const HTTP_PROTOCOL_OPTIONS_TYPE_URL = `type.googleapis.com/${HTTP_PROTOCOL_OPTIONS}`;

/** Fields of HttpProtocolOptions the mesh has no use for: noted, not refused (they shape Envoy's own HTTP codec). */
const IGNORED = ['max_connection_duration', 'max_headers_count', 'max_stream_duration'];

export function httpConnectionOptions(c: ProtoReader, warn: Warn): { idleTimeout?: number; maxRequestsPerConnection?: number } {
  const out: { idleTimeout?: number; maxRequestsPerConnection?: number } = {};
  const legacy = c.wrapped('max_requests_per_connection');
  if (legacy !== undefined && legacy > 0) out.maxRequestsPerConnection = legacy;
  const map = c.raw.typed_extension_protocol_options;
  if (typeof map !== 'object' || map === null) return out;
  const entry = (map as Record<string, unknown>)[HTTP_PROTOCOL_OPTIONS];
  if (entry === undefined) return out;
  const path = `${c.at('typed_extension_protocol_options')}["${HTTP_PROTOCOL_OPTIONS}"]`;
  const any = new ProtoReader(entry as Record<string, unknown>, path);
  if (any.str('type_url') !== HTTP_PROTOCOL_OPTIONS_TYPE_URL) any.fail('type_url', `must be ${HTTP_PROTOCOL_OPTIONS_TYPE_URL}`);
  const options = new ProtoReader(unpackAny(HTTP_PROTOCOL_OPTIONS_TYPE_URL, any.bytes('value') ?? new Uint8Array()), path);
  const common = options.msg('common_http_protocol_options');
  if (common === undefined) return out;
  const idle = common.durationMs('idle_timeout');
  // Envoy's 0 turns the idle timeout off: connections stay until the server closes them.
  if (idle !== undefined && idle > 0) out.idleTimeout = idle;
  const perConnection = common.wrapped('max_requests_per_connection');
  if (perConnection !== undefined && perConnection > 0) out.maxRequestsPerConnection = perConnection;
  const ignored = common.setAmong(IGNORED);
  // An enum always reads as set; its default (ALLOW) says nothing.
  const underscores = common.str('headers_with_underscores_action');
  if (underscores !== '' && underscores !== 'ALLOW') ignored.push('headers_with_underscores_action');
  if (ignored.length > 0) warn(common.path, `${ignored.join(', ')} ignored (not part of the mesh's connection pool)`);
  return out;
}
