/**
 * Envoy's RouteMatch (path, headers, query parameters) into the model's
 * match entry (Istio's HTTPMatchRequest). The model has exact, prefix,
 * regex, present and absent; Envoy's suffix, contains and ignore_case are
 * written as full-match regexes, which the model (like Envoy) anchors.
 */
import type { MatchEntry, StringMatch } from '../../config/route-match-schema.js';
import type { ProtoReader } from './proto-reader.js';

type ValueMatch = { exact?: string; prefix?: string; regex?: string; present?: true; absent?: true };

const ANY = '[\\s\\S]*';

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** A literal as a regex; with ignoreCase each letter becomes a two-case class. */
function literal(text: string, ignoreCase: boolean): string {
  const escaped = escapeRegex(text);
  if (!ignoreCase) return escaped;
  return escaped.replace(/[A-Za-z]/g, (c) => `[${c.toLowerCase()}${c.toUpperCase()}]`);
}

/** envoy.type.matcher.v3.StringMatcher. */
export function stringMatcher(r: ProtoReader): ValueMatch {
  const ic = r.bool('ignore_case');
  switch (r.oneof('match_pattern')) {
    case 'exact':
      return ic ? { regex: literal(r.str('exact'), true) } : { exact: r.str('exact') };
    case 'prefix':
      return ic ? { regex: `${literal(r.str('prefix'), true)}${ANY}` } : { prefix: r.str('prefix') };
    case 'suffix':
      return { regex: `${ANY}${literal(r.str('suffix'), ic)}` };
    case 'contains':
      return { regex: `${ANY}${literal(r.str('contains'), ic)}${ANY}` };
    case 'safe_regex':
      // Envoy documents ignore_case as having no effect on safe_regex.
      return { regex: r.msg('safe_regex')?.str('regex') ?? '' };
    default:
      return r.fail('match_pattern', `matcher kind ${JSON.stringify(r.oneof('match_pattern') || '(none)')} is not supported; use exact, prefix, suffix, contains or safe_regex`);
  }
}

/** envoy.config.route.v3.HeaderMatcher, as [lowercased name, matcher]. */
function headerMatcher(r: ProtoReader): [string, ValueMatch] {
  const name = r.str('name').toLowerCase();
  if (name === '') r.fail('name', 'must not be empty');
  const kind = r.oneof('header_match_specifier');
  const invert = r.bool('invert_match');
  if (kind === 'present_match' || kind === '') {
    // An unset specifier means "present" (Envoy's legacy default).
    const present = kind === '' || r.bool('present_match');
    return [name, present !== invert ? { present: true } : { absent: true }];
  }
  if (invert) {
    // Envoy's inverted matcher also matches a missing header; the model's conditions never match a missing header.
    r.fail('invert_match', 'is supported only with present_match (the mesh cannot express "absent or not matching")');
  }
  if (r.bool('treat_missing_header_as_empty')) {
    r.fail('treat_missing_header_as_empty', 'is not supported');
  }
  switch (kind) {
    case 'exact_match':
      return [name, { exact: r.str('exact_match') }];
    case 'prefix_match':
      return [name, { prefix: r.str('prefix_match') }];
    case 'suffix_match':
      return [name, { regex: `${ANY}${escapeRegex(r.str('suffix_match'))}` }];
    case 'contains_match':
      return [name, { regex: `${ANY}${escapeRegex(r.str('contains_match'))}${ANY}` }];
    case 'safe_regex_match':
      return [name, { regex: r.msg('safe_regex_match')?.str('regex') ?? '' }];
    case 'string_match': {
      const sm = r.msg('string_match');
      return [name, sm === undefined ? { present: true } : stringMatcher(sm)];
    }
    default:
      return r.fail(kind, 'is not supported (the mesh matches headers by exact, prefix, suffix, contains, regex and presence)');
  }
}

/**
 * A :method or :authority matcher as the model's StringMatch. Every request
 * has both, so "present" is no condition (undefined) and "absent" could
 * never match.
 */
function pseudoMatch(r: ProtoReader, name: string, m: ValueMatch): StringMatch | undefined {
  if (m.absent === true) r.fail('name', `${name} is on every request, so a matcher for its absence never matches`);
  if (m.present === true) return undefined;
  if (m.exact !== undefined) return { exact: m.exact };
  if (m.prefix !== undefined) return { prefix: m.prefix };
  return { regex: m.regex ?? '' };
}

function queryMatcher(r: ProtoReader): [string, ValueMatch] {
  const name = r.str('name');
  if (name === '') r.fail('name', 'must not be empty');
  if (r.oneof('query_parameter_match_specifier') === 'string_match') {
    return [name, stringMatcher(r.msg('string_match') ?? r.fail('string_match', 'is empty'))];
  }
  return [name, { present: true }];
}

/** envoy.config.route.v3.RouteMatch into one model match entry. */
export function routeMatch(r: ProtoReader): MatchEntry {
  const entry: {
    uri?: { exact?: string; prefix?: string; regex?: string };
    method?: StringMatch;
    authority?: StringMatch;
    headers?: Record<string, ValueMatch>;
    queryParams?: Record<string, ValueMatch>;
    ignoreUriCase?: boolean;
  } = {};
  switch (r.oneof('path_specifier')) {
    case 'prefix':
      // Prefix "" and "/" both match every path; the model wants a leading "/".
      entry.uri = { prefix: r.str('prefix') === '' ? '/' : r.str('prefix') };
      break;
    case 'path':
      entry.uri = { exact: r.str('path') };
      break;
    case 'safe_regex':
      entry.uri = { regex: r.msg('safe_regex')?.str('regex') ?? '' };
      break;
    case 'path_separated_prefix': {
      // "/api" matches "/api" and "/api/..." but not "/apix".
      const p = r.str('path_separated_prefix');
      entry.uri = { regex: `${escapeRegex(p)}(?:/[\\s\\S]*)?` };
      break;
    }
    default:
      r.fail(r.oneof('path_specifier') || 'path_specifier', 'is not supported; use prefix, path, safe_regex or path_separated_prefix');
  }
  const caseSensitive = r.wrappedBool('case_sensitive');
  if (caseSensitive === false) entry.ignoreUriCase = true;
  for (const unsupported of ['runtime_fraction', 'tls_context', 'dynamic_metadata']) {
    if (r.setAmong([unsupported]).length > 0) r.fail(unsupported, 'is not supported by the mesh');
  }
  const headers: Record<string, ValueMatch> = {};
  for (const h of r.list('headers')) {
    const [name, m] = headerMatcher(h);
    // istiod (and proxyless's control plane) write method and authority matches as these pseudo-header matchers.
    if (name === ':method' || name === ':authority' || name === 'host') {
      const field = name === ':method' ? 'method' : 'authority';
      if (entry[field] !== undefined) h.fail('name', `${field} is matched twice; the mesh takes one condition for it`);
      const always = pseudoMatch(h, name, m);
      if (always !== undefined) entry[field] = always;
      continue;
    }
    if (name.startsWith(':')) h.fail('name', `pseudo-header ${name} cannot be matched; the mesh matches :method and :authority (and the path by path_specifier)`);
    if (headers[name] !== undefined) h.fail('name', `header ${JSON.stringify(name)} is matched twice; the mesh takes one condition per header`);
    headers[name] = m;
  }
  // gRPC requests are the ones with an application/grpc content type.
  if (r.msg('grpc') !== undefined) headers['content-type'] ??= { prefix: 'application/grpc' };
  if (Object.keys(headers).length > 0) entry.headers = headers;
  const query: Record<string, ValueMatch> = {};
  for (const q of r.list('query_parameters')) {
    const [name, m] = queryMatcher(q);
    if (query[name] !== undefined) q.fail('name', `query parameter ${JSON.stringify(name)} is matched twice`);
    query[name] = m;
  }
  if (Object.keys(query).length > 0) entry.queryParams = query;
  return entry as MatchEntry;
}

