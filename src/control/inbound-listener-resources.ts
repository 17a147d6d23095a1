/**
 * The inbound Listener a server subscribes to (gRFC A36), shaped as istiod
 * shapes it for proxyless gRPC servers: the address and port it listens on,
 * and filter chains whose HttpConnectionManager runs jwt_authn (when a
 * RequestAuthentication applies), the RBAC filters (when an
 * AuthorizationPolicy does) and the router, over an inline route table that
 * accepts every request (`non_forwarding_action`: the server handles it).
 *
 * mTLS follows the PeerAuthentication mode for the port: STRICT is one
 * chain with a DownstreamTlsContext that requires a client certificate;
 * PERMISSIVE is that chain matched on `transport_protocol: tls` plus a
 * plaintext chain on `raw_buffer`, as istiod does; DISABLE is one plaintext
 * chain. The certificates are named by certificate-provider instance
 * (`default`, as in istiod's bootstrap), never sent.
 */
import type { MtlsModeName } from '../config/security-schema.js';
import { packAny, TYPE_URL } from '../discovery/xds/envoy-protos.js';
import {
  CERT_PROVIDER,
  DOWNSTREAM_TLS_TYPE_URL,
  FILTER,
  JWT_AUTHN_TYPE_URL,
  RBAC_TYPE_URL,
  ROUTER_TYPE_URL,
} from '../discovery/xds/inbound-vocabulary.js';
import type { RbacFilters } from './rbac-resources.js';

type Obj = Record<string, unknown>;

export interface InboundListenerSpec {
  readonly name: string;
  readonly ip: string;
  readonly port: number;
  readonly mode: MtlsModeName;
  readonly rbac: RbacFilters;
  readonly jwt: Obj | undefined;
}

function tlsSocket(): Obj {
  const context = {
    common_tls_context: {
      tls_certificate_provider_instance: { instance_name: CERT_PROVIDER, certificate_name: 'default' },
      validation_context: { ca_certificate_provider_instance: { instance_name: CERT_PROVIDER, certificate_name: 'ROOTCA' } },
    },
    require_client_certificate: { value: true },
  };
  return { name: 'envoy.transport_sockets.tls', typed_config: packAny(DOWNSTREAM_TLS_TYPE_URL, context) };
}

function httpFilters(spec: InboundListenerSpec): Obj[] {
  const filters: Obj[] = [];
  if (spec.jwt !== undefined) {
    filters.push({ name: FILTER.jwt, typed_config: packAny(JWT_AUTHN_TYPE_URL, spec.jwt), is_optional: true });
  }
  if (spec.rbac.deny !== undefined) filters.push({ name: FILTER.rbacDeny, typed_config: packAny(RBAC_TYPE_URL, spec.rbac.deny) });
  if (spec.rbac.allow !== undefined) filters.push({ name: FILTER.rbacAllow, typed_config: packAny(RBAC_TYPE_URL, spec.rbac.allow) });
  filters.push({ name: FILTER.router, typed_config: packAny(ROUTER_TYPE_URL, {}) });
  return filters;
}

function connectionManager(spec: InboundListenerSpec): Obj {
  const hcm = {
    stat_prefix: `inbound_${spec.port}`,
    route_config: {
      name: `inbound|${spec.port}`,
      virtual_hosts: [
        {
          name: `inbound|http|${spec.port}`,
          domains: ['*'],
          routes: [{ match: { prefix: '/' }, decorator: { operation: 'proxyless/inbound' }, non_forwarding_action: {} }],
        },
      ],
    },
    http_filters: httpFilters(spec),
  };
  return { name: 'envoy.filters.network.http_connection_manager', typed_config: packAny(TYPE_URL.httpConnectionManager, hcm) };
}

export function inboundListener(spec: InboundListenerSpec): Obj {
  const hcm = connectionManager(spec);
  const mtls = { name: 'inbound-mtls', filters: [hcm], transport_socket: tlsSocket() };
  const plaintext = { name: 'inbound-plaintext', filters: [hcm] };
  const chains =
    spec.mode === 'STRICT'
      ? [mtls]
      : spec.mode === 'DISABLE'
        ? [plaintext]
        : [
            { ...mtls, filter_chain_match: { transport_protocol: 'tls' } },
            { ...plaintext, filter_chain_match: { transport_protocol: 'raw_buffer' } },
          ];
  return {
    name: spec.name,
    address: { socket_address: { address: spec.ip, port_value: spec.port } },
    filter_chains: chains,
    traffic_direction: 'INBOUND',
  };
}
