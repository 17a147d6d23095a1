/**
 * A custom load-balancing policy in an xDS `load_balancing_policy` list, the
 * way gRPC names one (gRFC A52): the entry's typed_config is a TypedStruct
 * (`xds.type.v3.TypedStruct`, or the older `udpa.type.v1.TypedStruct`, the
 * same message), whose own `type_url` names the policy by its last segment
 * (`type.googleapis.com/myorg.MyCustomLb` → `myorg.MyCustomLb`) and whose
 * `value` Struct is the policy's JSON config. The control plane
 * (control/typed-lb-policy.ts) writes the same shape, so gRPC clients and
 * proxyless read one resource.
 */
import { isDottedLbPolicyName } from '../../config/lb-policy-name.js';
import type { Warn } from './decode-route-action.js';
import { typeNameOf, unpackAny } from './envoy-protos.js';
import { ProtoReader } from './proto-reader.js';
import { fromStruct } from './struct-json.js';

export const XDS_TYPED_STRUCT = 'xds.type.v3.TypedStruct';
export const UDPA_TYPED_STRUCT = 'udpa.type.v1.TypedStruct';

export function isTypedStruct(typeName: string): boolean {
  return typeName === XDS_TYPED_STRUCT || typeName === UDPA_TYPED_STRUCT;
}

export interface CustomPolicy {
  readonly policy: string;
  readonly config: Record<string, unknown>;
}

/**
 * The policy a TypedStruct names, or undefined (with a warning, so the next
 * entry is tried, as for an Envoy type the mesh does not know) when its
 * name is not a dotted custom name, the one form a type_url's last segment
 * can take and config can select.
 */
export function customPolicy(typeUrl: string, bytes: Uint8Array, path: string, warn: Warn): CustomPolicy | undefined {
  const ts = new ProtoReader(unpackAny(typeUrl, bytes), path);
  const inner = ts.str('type_url');
  const policy = typeNameOf(inner);
  if (!isDottedLbPolicyName(policy)) {
    warn(ts.at('type_url'), `TypedStruct names policy ${JSON.stringify(policy)} (from ${JSON.stringify(inner)}), which is not a custom policy name (such as "myorg.FewestInFlight"); trying the next one`);
    return undefined;
  }
  const value = ts.msg('value');
  return { policy, config: value === undefined ? {} : fromStruct(value) };
}
