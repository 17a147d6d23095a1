/**
 * A custom load-balancer policy in a Cluster's standard
 * `load_balancing_policy`, as gRPC reads one (gRFC A52): a TypedStruct whose
 * `type_url` ends in the policy's name and whose `value` is its config, then
 * RoundRobin. gRPC names custom policies with dots (`myorg.FewestInFlight`),
 * so only dotted names go here; `<prefix>/<name>` names could not survive
 * the `type_url` (A52 takes the part after its last "/") and travel in the
 * proxyless metadata only.
 *
 * Why RoundRobin after it: a gRPC client that has not registered the policy
 * takes the next entry, as it took `lb_policy: ROUND_ROBIN` before; without
 * one it would NACK the cluster and lose the service. proxyless clients are
 * stricter: the exact block in the proxyless metadata names the policy, so
 * one without it rejects the update, as it would the same config from a file.
 */
import { packAny } from '../discovery/xds/envoy-protos.js';
import { XDS_TYPED_STRUCT } from '../discovery/xds/typed-struct-policy.js';
import { structOf } from './envoy-values.js';

const ROUND_ROBIN = 'type.googleapis.com/envoy.extensions.load_balancing_policies.round_robin.v3.RoundRobin';
/** A52 takes the name from the last segment, whatever comes before; this is the prefix protobuf uses. */
const TYPE_URL_PREFIX = 'type.googleapis.com/';
export function typedLoadBalancingPolicy(policy: string, config: Readonly<Record<string, unknown>> | undefined): Record<string, unknown> {
  const typedStruct = packAny(`${TYPE_URL_PREFIX}${XDS_TYPED_STRUCT}`, {
    type_url: `${TYPE_URL_PREFIX}${policy}`,
    // Always a value, even an empty one: grpc-js rejects a TypedStruct without it.
    value: structOf(config ?? {}),
  });
  return {
    policies: [
      { typed_extension_config: { name: policy, typed_config: typedStruct } },
      { typed_extension_config: { name: 'envoy.load_balancing_policies.round_robin', typed_config: packAny(ROUND_ROBIN, {}) } },
    ],
  };
}
