/**
 * One RBAC matcher (a principal or permission leaf) read back as the Istio
 * attribute and value it stands for: `authenticated.principal_name` exact
 * `spiffe://x` is principal `x`, a `.*\/ns/prod/.*` regex is namespace
 * `prod`, `:method` is a method, and so on. A matcher no Istio attribute
 * can stand for (a regex of another shape, `contains`, an inverted header
 * match, a case-insensitive path) is an error naming its field: the mesh
 * must never enforce less than it was told.
 */

import { typeNameOf, unpackAny } from './envoy-protos.js';
import { AUTHN_METADATA, CLAIMS_KEY, REQUEST_PRINCIPAL_KEY, readPathTemplateRegex, readPrincipalRegex, URI_TEMPLATE_TYPE_URL } from './inbound-vocabulary.js';
import { ProtoReader } from './proto-reader.js';

/** A source/operation field name (`principals`, `paths`, …) or a `when` key (`request.headers[x-env]`). */
export interface Leaf {
  readonly field: string;
  readonly value: string;
}

/** A StringMatcher as an Istio pattern (`x`, `x*`, `*x`, `*`); `strip` is removed from exact and prefix values. */
export function patternOf(m: ProtoReader, strip = '', caseless = false): string {
  if (m.bool('ignore_case') && !caseless) m.fail('ignore_case', 'is not supported here; Istio matches this attribute case-sensitively');
  const kind = m.oneof('match_pattern');
  const value = m.str(kind);
  const body = (v: string, field: string) => {
    if (!v.startsWith(strip)) m.fail(field, `${JSON.stringify(v)} does not start with ${JSON.stringify(strip)}`);
    return v.slice(strip.length);
  };
  const literal = (v: string, field: string) => {
    if (v.includes('*')) m.fail(field, `${JSON.stringify(v)} contains "*", which Istio patterns read as a wildcard`);
    return v;
  };
  switch (kind) {
    case 'exact': {
      const v = literal(body(value, 'exact'), 'exact');
      if (v === '') m.fail('exact', 'is empty');
      return v;
    }
    case 'prefix': {
      const v = literal(body(value, 'prefix'), 'prefix');
      return `${v}*`;
    }
    case 'suffix':
      if (value === '') m.fail('suffix', 'is empty');
      return `*${literal(value, 'suffix')}`;
    case 'safe_regex': {
      const regex = m.msg('safe_regex')?.str('regex') ?? '';
      if (regex === '.+' || regex === '.*') return '*';
      return m.fail('safe_regex', `${JSON.stringify(regex)} is not a pattern an Istio policy can write (exact, prefix, suffix or any)`);
    }
    default:
      return m.fail(kind || 'match_pattern', 'is not supported; Istio policies match exact, prefix, suffix or any value');
  }
}

function headerPattern(h: ProtoReader, caseless: boolean): string {
  if (h.bool('invert_match')) h.fail('invert_match', 'is not supported; write the negation with a not rule');
  if (h.bool('treat_missing_header_as_empty')) h.fail('treat_missing_header_as_empty', 'is not supported');
  const kind = h.oneof('header_match_specifier');
  switch (kind) {
    case 'present_match':
      if (!h.bool('present_match')) h.fail('present_match', 'false (absent header) is not supported');
      return '*';
    case 'string_match':
      return patternOf(h.msg('string_match') ?? h.fail('string_match', 'is empty'), '', caseless);
    case 'exact_match':
      return patternOf(new ProtoReader({ match_pattern: 'exact', exact: h.str('exact_match') }, h.at('exact_match')));
    case 'prefix_match':
      return patternOf(new ProtoReader({ match_pattern: 'prefix', prefix: h.str('prefix_match') }, h.at('prefix_match')));
    case 'suffix_match':
      return patternOf(new ProtoReader({ match_pattern: 'suffix', suffix: h.str('suffix_match') }, h.at('suffix_match')));
    default:
      return h.fail(kind || 'header_match_specifier', 'is not supported in a policy header match');
  }
}

function cidrOf(c: ProtoReader): string {
  const address = c.str('address_prefix');
  if (address === '') c.fail('address_prefix', 'is required');
  const len = c.wrapped('prefix_len') ?? (address.includes(':') ? 128 : 32);
  return `${address}/${len}`;
}

function metadataLeaf(m: ProtoReader): Leaf {
  if (m.str('filter') !== AUTHN_METADATA) m.fail('filter', `${JSON.stringify(m.str('filter'))} is not supported; only ${AUTHN_METADATA} (the JWT's principal and claims)`);
  if (m.bool('invert')) m.fail('invert', 'is not supported');
  const keys = m.list('path').map((p) => p.str('key'));
  const value = m.msg('value') ?? m.fail('value', 'is required');
  if (keys.length === 1 && keys[0] === REQUEST_PRINCIPAL_KEY) {
    return { field: 'requestPrincipals', value: patternOf(value.msg('string_match') ?? value.fail('string_match', 'is required')) };
  }
  if (keys.length >= 2 && keys[0] === CLAIMS_KEY) {
    const one = value.msg('list_match')?.msg('one_of')?.msg('string_match') ?? value.msg('string_match') ?? value.fail('list_match', 'must hold one_of.string_match');
    return { field: `request.auth.claims${keys.slice(1).map((k) => `[${k}]`).join('')}`, value: patternOf(one) };
  }
  return m.fail('path', `${JSON.stringify(keys.join('.'))} is not supported; only ${REQUEST_PRINCIPAL_KEY} and ${CLAIMS_KEY}[…]`);
}

function principalName(a: ProtoReader): Leaf {
  const m = a.msg('principal_name');
  if (m === undefined) return { field: 'principals', value: '*' };
  if (m.oneof('match_pattern') === 'safe_regex') {
    const regex = m.msg('safe_regex')?.str('regex') ?? '';
    const read = readPrincipalRegex(regex);
    if (read?.kind === 'namespace') return { field: 'namespaces', value: read.pattern };
    if (read?.kind === 'serviceAccount') return { field: 'serviceAccounts', value: read.account };
    if (regex === '.+' || regex === '.*') return { field: 'principals', value: '*' };
    m.fail('safe_regex', `${JSON.stringify(regex)} is none of the forms a namespace or service account is written in`);
  }
  if (m.oneof('match_pattern') === 'prefix' && m.str('prefix') === 'spiffe://') return { field: 'principals', value: '*' };
  return { field: 'principals', value: patternOf(m, m.oneof('match_pattern') === 'suffix' ? '' : 'spiffe://') };
}

/** A Principal leaf (neither and_ids, or_ids, not_id nor any). */
export function principalLeaf(p: ProtoReader): Leaf {
  const kind = p.oneof('identifier');
  switch (kind) {
    case 'authenticated':
      return principalName(p.msg('authenticated') ?? new ProtoReader({}, p.at('authenticated')));
    case 'direct_remote_ip':
    case 'source_ip':
      return { field: 'ipBlocks', value: cidrOf(p.msg(kind) ?? p.fail(kind, 'is empty')) };
    case 'remote_ip':
      return { field: 'remoteIpBlocks', value: cidrOf(p.msg(kind) ?? p.fail(kind, 'is empty')) };
    case 'header': {
      const h = p.msg('header') ?? p.fail('header', 'is empty');
      return { field: `request.headers[${h.str('name').toLowerCase()}]`, value: headerPattern(h, false) };
    }
    case 'metadata':
      return metadataLeaf(p.msg('metadata') ?? p.fail('metadata', 'is empty'));
    default:
      return p.fail(kind || 'identifier', 'is not supported in an inbound policy principal');
  }
}

/** A Permission leaf (neither and_rules, or_rules, not_rule nor any). */
export function permissionLeaf(p: ProtoReader): Leaf {
  const kind = p.oneof('rule');
  switch (kind) {
    case 'header': {
      const h = p.msg('header') ?? p.fail('header', 'is empty');
      const name = h.str('name').toLowerCase();
      if (name === ':method') return { field: 'methods', value: headerPattern(h, false) };
      if (name === ':authority' || name === 'host') return { field: 'hosts', value: headerPattern(h, true).toLowerCase() };
      return { field: `request.headers[${name}]`, value: headerPattern(h, false) };
    }
    case 'url_path': {
      const path = p.msg('url_path')?.msg('path') ?? p.fail('url_path', 'must set path');
      const template = path.oneof('match_pattern') === 'safe_regex' ? readPathTemplateRegex(path.msg('safe_regex')?.str('regex') ?? '') : undefined;
      return { field: 'paths', value: template ?? patternOf(path) };
    }
    case 'uri_template': {
      const any = p.msg('uri_template')?.msg('typed_config');
      if (any?.str('type_url') !== URI_TEMPLATE_TYPE_URL) p.fail('uri_template.typed_config', `${typeNameOf(any?.str('type_url') ?? '')} is not supported; use UriTemplateMatchConfig`);
      const cfg = unpackAny(URI_TEMPLATE_TYPE_URL, any!.bytes('value') ?? new Uint8Array());
      return { field: 'paths', value: String(cfg.path_template ?? '') };
    }
    case 'destination_port':
      return { field: 'ports', value: String(p.num('destination_port')) };
    case 'destination_ip':
      return { field: 'destination.ip', value: cidrOf(p.msg(kind) ?? p.fail(kind, 'is empty')) };
    case 'requested_server_name':
      return { field: 'connection.sni', value: patternOf(p.msg(kind) ?? p.fail(kind, 'is empty')) };
    default:
      return p.fail(kind || 'rule', 'is not supported in an inbound policy permission');
  }
}
