/**
 * The fault filter's config (envoy.extensions.filters.http.fault.v3.HTTPFault)
 * into the model's route `fault`, and the per-route override lookup gRPC
 * defines (A33, A39): a route's typed_per_filter_config beats its virtual
 * host's, which beats the filter's own config in the HttpConnectionManager.
 */
import { typeNameOf, unpackAny } from './envoy-protos.js';
import { fractionalPercent, ProtoReader } from './proto-reader.js';

export const FAULT_TYPE_URL = 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault';
const FILTER_CONFIG_TYPE_URL = 'type.googleapis.com/envoy.config.route.v3.FilterConfig';
const ROUTER_TYPE_URL = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';

export interface FaultInput {
  delay?: { percentage: number; fixedDelay: number };
  abort?: { percentage: number; httpStatus: number } | { percentage: number; grpcStatus: number };
}

/** What a level says about the fault: a config, "none here" (disabled), or nothing (inherit). */
export type FaultSetting = FaultInput | null | undefined;

export function decodeFault(r: ProtoReader): FaultInput | null {
  for (const field of ['headers', 'upstream_cluster', 'downstream_nodes', 'max_active_faults', 'response_rate_limit']) {
    if (r.setAmong([field]).length > 0) r.fail(field, 'is not supported by the mesh');
  }
  const out: FaultInput = {};
  const delay = r.msg('delay');
  if (delay !== undefined) {
    if (delay.oneof('fault_delay_secifier') === 'header_delay' || delay.msg('header_delay') !== undefined) {
      delay.fail('header_delay', 'is not supported; use fixed_delay');
    }
    const ms = delay.durationMs('fixed_delay') ?? delay.fail('fixed_delay', 'is required');
    out.delay = { percentage: fractionalPercent(delay.msg('percentage')) ?? 0, fixedDelay: ms };
  }
  const abort = r.msg('abort');
  if (abort !== undefined) {
    const kind = abort.oneof('error_type');
    const percentage = fractionalPercent(abort.msg('percentage')) ?? 0;
    if (kind === 'http_status') {
      out.abort = { percentage, httpStatus: abort.num('http_status') };
    } else if (kind === 'grpc_status') {
      const code = abort.num('grpc_status');
      if (code < 1 || code > 16) abort.fail('grpc_status', `must be a gRPC status from 1 to 16 (OK is no abort), got ${code}`);
      out.abort = { percentage, grpcStatus: code };
    } else {
      abort.fail(kind || 'error_type', 'is not supported; the mesh aborts with an http_status or a grpc_status');
    }
  }
  return out.delay === undefined && out.abort === undefined ? null : out;
}

/** One typed_per_filter_config map: the fault override it holds, if any. */
export function faultOverride(r: ProtoReader, field: string, warn: (path: string, message: string) => void): FaultSetting {
  const map = r.raw[field];
  if (typeof map !== 'object' || map === null) return undefined;
  let setting: FaultSetting;
  for (const [name, any] of Object.entries(map as Record<string, unknown>)) {
    const path = `${r.at(field)}["${name}"]`;
    const entry = new ProtoReader(any as Record<string, unknown>, path);
    let typeUrl = entry.str('type_url');
    let config = entry;
    let optional = false;
    if (typeUrl === FILTER_CONFIG_TYPE_URL) {
      const wrapper = new ProtoReader(unpackAny(typeUrl, entry.bytes('value') ?? new Uint8Array()), path);
      optional = wrapper.bool('is_optional');
      if (wrapper.bool('disabled')) {
        setting = null;
        continue;
      }
      config = wrapper.msg('config') ?? wrapper.fail('config', 'is required unless disabled is true');
      typeUrl = config.str('type_url');
    }
    if (typeUrl === FAULT_TYPE_URL) {
      setting = decodeFault(new ProtoReader(unpackAny(typeUrl, config.bytes('value') ?? new Uint8Array()), path));
    } else if (typeUrl === ROUTER_TYPE_URL || optional) {
      warn(path, `filter config of type ${typeNameOf(typeUrl)} ignored`);
    } else {
      entry.fail('', `filter config of type ${typeNameOf(typeUrl) || '(none)'} is not supported; mark it is_optional in a FilterConfig to let clients skip it`);
    }
  }
  return setting;
}

/** The first setting that says something, most specific first. */
export function resolveFault(...levels: FaultSetting[]): FaultInput | undefined {
  for (const level of levels) if (level !== undefined) return level ?? undefined;
  return undefined;
}

