/**
 * Listener (LDS) for a client: an API listener holding an
 * HttpConnectionManager, whose routes are inline or named for RDS, and
 * whose HTTP filters may carry the fault filter's default config. As in
 * gRPC, the filter chain must end with the router, and a filter the mesh
 * does not know is rejected unless it is marked optional.
 */

import { decodeFault, FAULT_TYPE_URL, type FaultInput } from './decode-fault.js';
import { decodeInboundListener, type XdsInbound } from './decode-inbound-listener.js';
import { decodeRouteConfiguration, type XdsRouteConfig } from './decode-route.js';
import type { Warn } from './decode-route-action.js';
import { TYPE_URL, typeNameOf, unpackAny } from './envoy-protos.js';
import { ProtoReader } from './proto-reader.js';

const ROUTER = 'envoy.extensions.filters.http.router.v3.Router';
/** Server-side filters a client listener may carry; they do nothing for outbound calls. */
const IGNORED_FILTERS = new Set(['envoy.extensions.filters.http.rbac.v3.RBAC']);

export interface XdsListener {
  readonly name: string;
  /** The RDS name to follow, or undefined when routes are inline. */
  readonly rdsName: string | undefined;
  readonly inlineRoutes: XdsRouteConfig | undefined;
  /** The fault filter's own config: applies to routes that do not override it. */
  readonly fault: FaultInput | undefined;
  /** HCM max_stream_duration: the timeout of routes that set none. */
  readonly maxStreamDurationMs: number | undefined;
  /** A server's inbound listener (socket listener with filter chains): its security, and no routes. */
  readonly inbound?: XdsInbound;
}

export function decodeListener(raw: Record<string, unknown>, warn: Warn, path = ''): XdsListener {
  const l: ProtoReader = new ProtoReader(raw, path);
  const name = l.str('name');
  if (l.msg('api_listener') === undefined && l.list('filter_chains').length > 0) {
    return { name, rdsName: undefined, inlineRoutes: undefined, fault: undefined, maxStreamDurationMs: undefined, inbound: decodeInboundListener(raw, path) };
  }
  const api =
    l.msg('api_listener')?.msg('api_listener') ??
    l.fail('api_listener', 'is required (or, for a server\'s inbound listener, an address and filter_chains)');
  if (api.str('type_url') !== TYPE_URL.httpConnectionManager) {
    api.fail('type_url', `${typeNameOf(api.str('type_url'))} is not supported; use HttpConnectionManager`);
  }
  const hcm = new ProtoReader(unpackAny(api.str('type_url'), api.bytes('value') ?? new Uint8Array()), api.path);
  let fault: FaultInput | undefined;
  const filters = hcm.list('http_filters');
  filters.forEach((f, i) => {
    const any = f.msg('typed_config');
    const typeName = typeNameOf(any?.str('type_url') ?? '');
    const isLast = i === filters.length - 1;
    if (typeName === ROUTER) {
      if (!isLast) f.fail('typed_config', 'the router must be the last HTTP filter');
      return;
    }
    if (isLast) f.fail('typed_config', 'the last HTTP filter must be the router');
    if (`type.googleapis.com/${typeName}` === FAULT_TYPE_URL) {
      const cfg = new ProtoReader(unpackAny(FAULT_TYPE_URL, any?.bytes('value') ?? new Uint8Array()), f.at('typed_config'));
      fault = decodeFault(cfg) ?? undefined;
    } else if (IGNORED_FILTERS.has(typeName) || f.bool('is_optional')) {
      warn(f.path, `HTTP filter ${f.str('name') || typeName} ignored (not an outbound filter)`);
    } else {
      f.fail('typed_config', `HTTP filter ${typeName || f.str('name') || '(none)'} is not supported; mark it is_optional to let clients skip it`);
    }
  });
  if (filters.length === 0) hcm.fail('http_filters', 'must end with the router filter');
  const maxStreamDurationMs = hcm.msg('common_http_protocol_options')?.durationMs('max_stream_duration');
  switch (hcm.oneof('route_specifier')) {
    case 'rds': {
      const rds = hcm.msg('rds') ?? hcm.fail('rds', 'is empty');
      const source = rds.msg('config_source');
      const kind = source?.oneof('config_source_specifier') ?? '';
      if (kind !== 'ads' && kind !== 'self') rds.fail('config_source', 'must be ads or self (the mesh reads routes over the same ADS stream)');
      const rdsName = rds.str('route_config_name');
      if (rdsName === '') rds.fail('route_config_name', 'is required');
      return { name, rdsName, inlineRoutes: undefined, fault, maxStreamDurationMs };
    }
    case 'route_config': {
      const rc = hcm.msg('route_config') ?? hcm.fail('route_config', 'is empty');
      return { name, rdsName: undefined, inlineRoutes: decodeRouteConfiguration(rc.raw as Record<string, unknown>, warn, rc.path), fault, maxStreamDurationMs };
    }
    default:
      return hcm.fail(hcm.oneof('route_specifier') || 'route_specifier', 'is not supported; use rds or route_config');
  }
}
