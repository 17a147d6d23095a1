/**
 * An inbound Listener (gRFC A36: a socket listener a server subscribes to
 * by its own address) read back into the mesh's inbound security: the mTLS
 * mode its filter chains say, the AuthorizationPolicies its RBAC filters
 * hold and the RequestAuthentications its jwt_authn filter holds.
 *
 * - mTLS: every chain with a DownstreamTlsContext that requires a client
 *   certificate is STRICT; such a chain beside a plaintext one is
 *   PERMISSIVE; no TLS chain is DISABLE. TLS without a client certificate
 *   is not a mode the mesh has, and an error.
 * - Every chain must carry the same policies: the mesh has one inbound
 *   guard per process, not one per chain.
 */
import { decodeJwtAuthentication } from './decode-jwt-authn.js';
import { rbacDecoder } from './decode-rbac.js';
import { TYPE_URL, typeNameOf, unpackAny } from './envoy-protos.js';
import { DOWNSTREAM_TLS_TYPE_URL, JWT_AUTHN_TYPE_URL, RBAC_TYPE_URL, ROUTER_TYPE_URL } from './inbound-vocabulary.js';
import { ProtoReader } from './proto-reader.js';

type Obj = Record<string, unknown>;

export interface XdsInbound {
  readonly port: number;
  readonly mode: 'STRICT' | 'PERMISSIVE' | 'DISABLE';
  /** Compact-form AuthorizationPolicies, validated when the layer is applied. */
  readonly authorizationPolicies: Obj[];
  readonly requestAuthentications: Obj[];
}

function chainTls(chain: ProtoReader): boolean {
  const socket = chain.msg('transport_socket');
  if (socket === undefined) return false;
  const any = socket.msg('typed_config');
  if (any?.str('type_url') !== DOWNSTREAM_TLS_TYPE_URL) socket.fail('typed_config', `${typeNameOf(any?.str('type_url') ?? '')} is not supported; use DownstreamTlsContext`);
  const tls = new ProtoReader(unpackAny(DOWNSTREAM_TLS_TYPE_URL, any!.bytes('value') ?? new Uint8Array()), socket.at('typed_config'));
  if (tls.wrappedBool('require_client_certificate') !== true) {
    tls.fail('require_client_certificate', 'must be true: the mesh serves TLS only as mutual TLS (STRICT or PERMISSIVE)');
  }
  return true;
}

function chainPolicies(chain: ProtoReader): { authz: Obj[]; authn: Obj[] } {
  const filters = chain.list('filters');
  if (filters.length !== 1) chain.fail('filters', `must hold exactly one filter (the HttpConnectionManager), got ${filters.length}`);
  const any = filters[0]!.msg('typed_config');
  if (any?.str('type_url') !== TYPE_URL.httpConnectionManager) filters[0]!.fail('typed_config', 'must be an HttpConnectionManager');
  const hcm = new ProtoReader(unpackAny(TYPE_URL.httpConnectionManager, any!.bytes('value') ?? new Uint8Array()), filters[0]!.at('typed_config'));
  const rbac = rbacDecoder();
  let authn: Obj[] = [];
  const list = hcm.list('http_filters');
  if (list.length === 0 || list[list.length - 1]!.msg('typed_config')?.str('type_url') !== ROUTER_TYPE_URL) {
    hcm.fail('http_filters', 'must end with the router filter');
  }
  list.slice(0, -1).forEach((f) => {
    const cfg = f.msg('typed_config');
    const url = cfg?.str('type_url') ?? '';
    const body = (type: string) => new ProtoReader(unpackAny(type, cfg!.bytes('value') ?? new Uint8Array()), f.at('typed_config'));
    if (url === RBAC_TYPE_URL) rbac.add(body(RBAC_TYPE_URL));
    else if (url === JWT_AUTHN_TYPE_URL) authn = [...authn, ...decodeJwtAuthentication(body(JWT_AUTHN_TYPE_URL))];
    else if (url === ROUTER_TYPE_URL) f.fail('typed_config', 'the router must be the last HTTP filter');
    else f.fail('typed_config', `HTTP filter ${typeNameOf(url) || f.str('name') || '(none)'} is not supported on an inbound listener (supported: RBAC, jwt_authn, router)`);
  });
  return { authz: rbac.policies, authn };
}

export function decodeInboundListener(raw: Obj, path = ''): XdsInbound {
  const l = new ProtoReader(raw, path);
  const port = l.msg('address')?.msg('socket_address')?.num('port_value') ?? l.fail('address', 'is required: an inbound listener names the address it serves');
  if (l.msg('default_filter_chain') !== undefined) l.fail('default_filter_chain', 'is not supported; list the chains in filter_chains');
  const chains = l.list('filter_chains');
  if (chains.length === 0) l.fail('filter_chains', 'is empty');
  let tls = 0;
  let first: { authz: Obj[]; authn: Obj[] } | undefined;
  for (const chain of chains) {
    const match = chain.msg('filter_chain_match');
    const unsupported = match?.setAmong(['destination_port', 'prefix_ranges', 'server_names', 'application_protocols', 'source_prefix_ranges', 'source_ports', 'direct_source_prefix_ranges']) ?? [];
    if (unsupported.length > 0) match!.fail(unsupported[0]!, 'is not supported: the mesh applies one policy to every connection on the port');
    if (chainTls(chain)) tls += 1;
    const policies = chainPolicies(chain);
    if (first === undefined) first = policies;
    else if (JSON.stringify(first) !== JSON.stringify(policies)) chain.fail('filters', 'carries other policies than filter_chains[0]; the mesh has one inbound guard per port');
  }
  const mode = tls === 0 ? 'DISABLE' : tls === chains.length ? 'STRICT' : 'PERMISSIVE';
  return { port, mode, authorizationPolicies: first!.authz, requestAuthentications: first!.authn };
}
