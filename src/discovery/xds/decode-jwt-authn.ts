/**
 * Envoy's jwt_authn filter config read back into RequestAuthentications
 * (our compact form, validated afterwards like a file's): each provider is
 * one JWT rule; providers named `<namespace>/<policy>/<i>` (as the control
 * plane names them) regroup into policy `<policy>`.
 *
 * Istio's meaning is kept: a token is checked when present, a request
 * without one passes (AuthorizationPolicy decides). Requirement trees that
 * say more (a token required on some path) have no RequestAuthentication
 * form and are an error naming the field, never silently relaxed.
 */
import { ProtoReader } from './proto-reader.js';

type Obj = Record<string, unknown>;

function provider(p: ProtoReader): Obj {
  const unsupported = p.setAmong(['subjects', 'require_expiration', 'max_lifetime', 'jwt_cache_config', 'normalize_payload_in_metadata', 'clear_route_cache']);
  if (unsupported.length > 0) p.fail(unsupported[0]!, 'is not supported (RequestAuthentication has no such field)');
  const rule: Obj = {};
  if (p.str('issuer') !== '') rule.issuer = p.str('issuer');
  const audiences = p.strings('audiences');
  if (audiences.length > 0) rule.audiences = audiences;
  const source = p.oneof('jwks_source_specifier');
  if (source === 'local_jwks') {
    const local = p.msg('local_jwks') ?? p.fail('local_jwks', 'is empty');
    if (local.oneof('specifier') !== 'inline_string') local.fail(local.oneof('specifier') || 'specifier', 'is not supported; inline the JWKS as inline_string');
    rule.jwks = local.str('inline_string');
  } else if (source === 'remote_jwks') {
    const uri = p.msg('remote_jwks')?.msg('http_uri');
    if (uri?.str('uri')) rule.jwksUri = uri.str('uri');
    const timeout = uri?.durationMs('timeout');
    if (timeout !== undefined && timeout > 0) rule.timeout = `${timeout}ms`;
  } else p.fail('jwks_source_specifier', 'is required: set local_jwks or remote_jwks');
  const headers = p.list('from_headers').map((h) => ({ name: h.str('name'), ...(h.str('value_prefix') ? { prefix: h.str('value_prefix') } : {}) }));
  if (headers.length > 0) rule.fromHeaders = headers;
  if (p.strings('from_params').length > 0) rule.fromParams = p.strings('from_params');
  if (p.strings('from_cookies').length > 0) rule.fromCookies = p.strings('from_cookies');
  if (p.bool('forward')) rule.forwardOriginalToken = true;
  if (p.str('forward_payload_header') !== '') rule.outputPayloadToHeader = p.str('forward_payload_header');
  const claims = p.list('claim_to_headers').map((c) => ({ header: c.str('header_name'), claim: c.str('claim_name') }));
  if (claims.length > 0) rule.outputClaimToHeaders = claims;
  return rule;
}

/** Requirements must be Istio's: any provider's token, or none at all. */
function checkRules(cfg: ProtoReader): void {
  for (const r of cfg.list('rules')) {
    const req = r.msg('requires');
    if (req === undefined) continue;
    const kind = req.oneof('requires_type');
    const anyOf = kind === 'requires_any' ? (req.msg('requires_any')?.list('requirements') ?? []) : [];
    const allowsMissing = kind === 'allow_missing' || kind === 'allow_missing_or_failed' || anyOf.some((x) => ['allow_missing', 'allow_missing_or_failed'].includes(x.oneof('requires_type')));
    if (!allowsMissing) {
      req.fail(kind || 'requires_type', 'requires a token, which RequestAuthentication cannot say (Istio lets a request without a token through and leaves the decision to AuthorizationPolicy)');
    }
  }
  if (Object.keys(cfg.msg('requirement_map')?.raw ?? {}).length > 0) cfg.fail('requirement_map', 'is not supported');
  if (cfg.msg('filter_state_rules') !== undefined) cfg.fail('filter_state_rules', 'is not supported');
}

/** The RequestAuthentications a jwt_authn filter config stands for (compact form, not yet validated). */
export function decodeJwtAuthentication(cfg: ProtoReader): Obj[] {
  checkRules(cfg);
  const byPolicy = new Map<string, Obj[]>();
  const providers = cfg.msg('providers');
  for (const key of Object.keys(providers?.raw ?? {}).sort()) {
    const p = providers!.msg(key) ?? new ProtoReader({}, providers!.at(key));
    const m = /^[a-z0-9-]+\/([a-z0-9.-]+)\/\d+$/.exec(key);
    const policy = m?.[1] ?? 'xds-jwt';
    byPolicy.set(policy, [...(byPolicy.get(policy) ?? []), provider(new ProtoReader(p.raw, `${cfg.path}.providers[${JSON.stringify(key)}]`))]);
  }
  return [...byPolicy].map(([name, jwtRules]) => ({ name, jwtRules }));
}
