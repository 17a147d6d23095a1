/**
 * API listeners (LDS), the way gRPC's proxyless clients expect them: one
 * listener per authority a client may dial, holding an HttpConnectionManager
 * whose routes come over RDS (or inline, when the control plane is told to),
 * with the fault filter and, last, the router filter.
 */
import { packAny, TYPE_URL } from '../discovery/xds/envoy-protos.js';
import { FAULT_FILTER_NAME } from './route-resources.js';

type Obj = Record<string, unknown>;

const ROUTER_TYPE_URL = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';
const FAULT_TYPE_URL = 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault';

/** `routes` is either the RDS name to subscribe to, or the RouteConfiguration itself. */
export function apiListener(name: string, routes: string | Obj): Obj {
  const manager: Obj = {
    stat_prefix: name,
    http_filters: [
      { name: FAULT_FILTER_NAME, typed_config: packAny(FAULT_TYPE_URL, {}) },
      { name: 'envoy.filters.http.router', typed_config: packAny(ROUTER_TYPE_URL, {}) },
    ],
  };
  if (typeof routes === 'string') {
    manager.rds = { route_config_name: routes, config_source: { ads: {}, resource_api_version: 'V3' } };
  } else manager.route_config = routes;
  return { name, api_listener: { api_listener: packAny(TYPE_URL.httpConnectionManager, manager) } };
}
