/**
 * A cluster's transport_socket (UpstreamTlsContext) into the model's
 * service `tls`: a client certificate makes it `mutual` (the mesh presents
 * its workload certificate, whatever provider the control plane named),
 * none makes it `simple`. SAN matchers become `subjectAltNames`, which the
 * model holds as exact SPIFFE IDs.
 */
import { typeNameOf, unpackAny } from './envoy-protos.js';
import { ProtoReader } from './proto-reader.js';

const UPSTREAM_TLS = 'envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';
const RAW_BUFFER = 'envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer';
const TRUST_DOMAIN_PREFIX = /^spiffe:\/\/[a-z0-9._-]+\/$/;

export interface TlsInput {
  mode: 'mutual' | 'simple';
  subjectAltNames?: string[];
  sni?: string;
  caCertificates?: string;
}

function sanMatchers(validation: ProtoReader | undefined): string[] {
  if (validation === undefined) return [];
  const out: string[] = [];
  const plain = validation.list('match_subject_alt_names');
  const typed = validation.list('match_typed_subject_alt_names').map((t) => t.msg('matcher') ?? t.fail('matcher', 'is required'));
  for (const m of [...plain, ...typed]) {
    // A prefix of a whole trust domain (`spiffe://cluster.local/`) is the model's "any identity in the trust domain".
    if (m.oneof('match_pattern') === 'prefix' && TRUST_DOMAIN_PREFIX.test(m.str('prefix')) && !m.bool('ignore_case')) continue;
    if (m.oneof('match_pattern') !== 'exact' || m.bool('ignore_case')) {
      m.fail('match_pattern', 'only exact SAN matchers (or a whole trust domain as prefix, spiffe://<trust-domain>/) are supported: the mesh verifies peers by SPIFFE ID');
    }
    out.push(m.str('exact'));
  }
  return out;
}

export function upstreamTls(cluster: ProtoReader): TlsInput | undefined {
  const socket = cluster.msg('transport_socket');
  if (socket === undefined) return undefined;
  const any = socket.msg('typed_config');
  const typeName = typeNameOf(any?.str('type_url') ?? '');
  if (typeName === RAW_BUFFER || (any === undefined && socket.str('name') === 'envoy.transport_sockets.raw_buffer')) return undefined;
  if (typeName !== UPSTREAM_TLS) {
    socket.fail('typed_config', `transport socket ${typeName || socket.str('name') || '(none)'} is not supported; use UpstreamTlsContext`);
  }
  const ctx = new ProtoReader(unpackAny(any?.str('type_url') ?? '', any?.bytes('value') ?? new Uint8Array()), socket.at('typed_config'));
  const common = ctx.msg('common_tls_context');
  const hasCert =
    common !== undefined &&
    common.setAmong([
      'tls_certificates',
      'tls_certificate_sds_secret_configs',
      'tls_certificate_provider_instance',
      'tls_certificate_certificate_provider',
      'tls_certificate_certificate_provider_instance',
    ]).length > 0;
  const validation = common?.msg('validation_context') ?? common?.msg('combined_validation_context')?.msg('default_validation_context');
  const sans = sanMatchers(validation);
  const out: TlsInput = { mode: hasCert ? 'mutual' : 'simple' };
  if (sans.length > 0 && !hasCert) {
    (validation ?? ctx).fail('match_subject_alt_names', 'the mesh checks SANs (SPIFFE IDs) only with mutual TLS: name a client certificate (tls_certificate_provider_instance), or drop the SAN matchers to verify the server by host name');
  }
  if (sans.length > 0) out.subjectAltNames = sans;
  if (ctx.str('sni') !== '') out.sni = ctx.str('sni');
  const caFile = validation?.msg('trusted_ca')?.str('filename') ?? '';
  if (caFile !== '') out.caCertificates = caFile;
  return out;
}
