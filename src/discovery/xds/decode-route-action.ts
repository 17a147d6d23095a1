/**
 * The parts of an Envoy route that say what happens to a matched request:
 * where it goes (cluster or weighted clusters), retries, hash policy,
 * mirroring, header mutations, rewrites and redirects, in the model's
 * words. Destinations still name xDS clusters here; the translator turns
 * them into the mesh's service names.
 */
import { RETRY_CONDITIONS } from '../../config/resilience-schema.js';
import type { HashOn } from '../../config/schema.js';
import { fractionalPercent, type ProtoReader } from './proto-reader.js';

export type Warn = (path: string, message: string) => void;

type HeaderOps = { set?: Record<string, string>; add?: Record<string, string>; remove?: string[] };
export interface HeadersInput {
  request?: HeaderOps;
  response?: HeaderOps;
}

/** Envoy retry_on values the mesh implements: exactly the model's own conditions. */
const RETRY_ON: ReadonlySet<string> = new Set(RETRY_CONDITIONS);

/** envoy.config.route.v3.RetryPolicy into the model's `retries`. */
export function retryPolicy(r: ProtoReader, warn: Warn): Record<string, unknown> {
  for (const field of ['retriable_headers', 'retriable_request_headers', 'retry_options_predicates']) {
    if (r.setAmong([field]).length > 0) r.fail(field, 'is not supported by the mesh');
  }
  const conditions: string[] = [];
  for (const raw of r.str('retry_on').split(',')) {
    const c = raw.trim();
    if (c === '') continue;
    // Dropping a condition only retries less, which is always safe.
    if (RETRY_ON.has(c)) conditions.push(c);
    else warn(r.at('retry_on'), `condition ${JSON.stringify(c)} is not supported and was ignored`);
  }
  // Envoy's num_retries defaults to 1.
  const out: Record<string, unknown> = { attempts: conditions.length === 0 ? 0 : (r.wrapped('num_retries') ?? 1), retryOn: conditions };
  const perTry = r.durationMs('per_try_timeout');
  if (perTry !== undefined && perTry > 0) out.perTryTimeout = perTry;
  const codes = r.raw.retriable_status_codes;
  if (Array.isArray(codes) && codes.length > 0) out.retriableStatusCodes = codes.map(Number);
  const backoff = r.msg('retry_back_off');
  if (backoff !== undefined) {
    const base = backoff.durationMs('base_interval');
    const max = backoff.durationMs('max_interval');
    out.backoff = { ...(base !== undefined ? { baseInterval: base } : {}), ...(max !== undefined ? { maxInterval: max } : {}) };
  }
  // retry_host_predicate, retry_priority and host_selection_retry_max_attempts steer which endpoint a
  // retry picks; the mesh's picker already avoids the endpoint that failed, so they are skipped silently
  // (istiod sets them on every route).
  return out;
}

/** The first hash policy the mesh can use (Envoy tries them in order too). */
export function hashPolicy(list: ProtoReader[], warn: Warn): HashOn | undefined {
  for (const h of list) {
    switch (h.oneof('policy_specifier')) {
      case 'header': {
        const header = h.msg('header');
        if (header?.msg('regex_rewrite') !== undefined) h.fail('header.regex_rewrite', 'is not supported');
        return { header: (header?.str('header_name') ?? '').toLowerCase() };
      }
      case 'cookie': {
        const cookie = h.msg('cookie');
        if (cookie?.msg('ttl') !== undefined) h.fail('cookie.ttl', 'is not supported (the mesh does not generate cookies)');
        return { cookie: cookie?.str('name') ?? '' };
      }
      case 'connection_properties':
        if (h.msg('connection_properties')?.bool('source_ip') === true) return { sourceIp: true };
        break;
      case 'query_parameter':
        return { queryParameter: h.msg('query_parameter')?.str('name') ?? '' };
      default:
        warn(h.path, `hash policy ${JSON.stringify(h.oneof('policy_specifier'))} is not supported and was skipped`);
    }
  }
  return undefined;
}

const APPEND_ACTIONS: Readonly<Record<string, 'add' | 'set'>> = {
  APPEND_IF_EXISTS_OR_ADD: 'add',
  OVERWRITE_IF_EXISTS_OR_ADD: 'set',
};

function headerOps(r: ProtoReader, addField: string, removeField: string, into: HeaderOps): void {
  for (const option of r.list(addField)) {
    const header = option.msg('header') ?? option.fail('header', 'is required');
    const name = header.str('key').toLowerCase();
    const value = header.str('value') || Buffer.from(header.bytes('raw_value') ?? new Uint8Array()).toString('latin1');
    const append = option.wrappedBool('append');
    const how: 'add' | 'set' =
      append !== undefined
        ? append
          ? 'add'
          : 'set'
        : (APPEND_ACTIONS[option.str('append_action') || 'APPEND_IF_EXISTS_OR_ADD'] ??
          option.fail('append_action', `${option.str('append_action')} is not supported; use APPEND_IF_EXISTS_OR_ADD or OVERWRITE_IF_EXISTS_OR_ADD`));
    into[how] = { ...into[how], [name]: value };
  }
  const removals = r.strings(removeField).map((n) => n.toLowerCase());
  if (removals.length > 0) into.remove = [...new Set([...(into.remove ?? []), ...removals])];
}

/**
 * Header mutations of the given levels (route, virtual host, route
 * configuration), most specific first. Envoy applies the less specific
 * levels last, so their `set` wins, and so it does here.
 */
export function headerMutations(levels: ProtoReader[]): HeadersInput | undefined {
  const request: HeaderOps = {};
  const response: HeaderOps = {};
  for (const level of levels) {
    headerOps(level, 'request_headers_to_add', 'request_headers_to_remove', request);
    headerOps(level, 'response_headers_to_add', 'response_headers_to_remove', response);
  }
  const out: HeadersInput = {};
  if (Object.keys(request).length > 0) out.request = request;
  if (Object.keys(response).length > 0) out.response = response;
  return out.request === undefined && out.response === undefined ? undefined : out;
}

const REDIRECT_CODES: Readonly<Record<string, number>> = {
  MOVED_PERMANENTLY: 301,
  FOUND: 302,
  SEE_OTHER: 303,
  TEMPORARY_REDIRECT: 307,
  PERMANENT_REDIRECT: 308,
};

/** envoy.config.route.v3.DirectResponseAction into the model's `directResponse`: a body given inline, as text. */
export function directResponseAction(r: ProtoReader): Record<string, unknown> {
  const out: Record<string, unknown> = { status: r.num('status') };
  const body = r.msg('body');
  if (body === undefined) return out;
  const kind = body.oneof('specifier');
  if (kind === 'inline_string') out.body = body.str('inline_string');
  else if (kind === 'inline_bytes') {
    try {
      out.body = new TextDecoder('utf-8', { fatal: true }).decode(body.bytes('inline_bytes') ?? new Uint8Array());
    } catch {
      body.fail('inline_bytes', 'is not UTF-8 text; the mesh answers with text bodies only');
    }
  } else if (kind !== '') body.fail(kind, 'is not supported; give the body inline (inline_string or inline_bytes)');
  return out;
}

/** envoy.config.route.v3.RedirectAction into the model's `redirect`. */
export function redirectAction(r: ProtoReader): Record<string, unknown> {
  const out: Record<string, unknown> = { redirectCode: REDIRECT_CODES[r.str('response_code') || 'MOVED_PERMANENTLY'] ?? 301 };
  if (r.bool('https_redirect')) out.scheme = 'https';
  else if (r.str('scheme_redirect') !== '') out.scheme = r.str('scheme_redirect');
  const host = r.str('host_redirect');
  const port = r.num('port_redirect');
  if (port > 0 && host === '') r.fail('port_redirect', 'is supported only together with host_redirect');
  if (host !== '') out.authority = port > 0 ? `${host}:${port}` : host;
  switch (r.oneof('path_rewrite_specifier')) {
    case 'path_redirect':
      out.uri = r.str('path_redirect');
      break;
    case '':
      break;
    default:
      r.fail(r.oneof('path_rewrite_specifier'), 'is not supported in redirects; use path_redirect');
  }
  if (r.bool('strip_query')) r.fail('strip_query', 'is not supported (redirects keep the query)');
  return out;
}

/** request_mirror_policies: each a cluster and the share of requests it gets a copy of. */
export function mirrorPolicies(list: ProtoReader[]): { cluster: string; percentage: number }[] {
  return list.map((policy) => {
    const cluster = policy.str('cluster');
    if (cluster === '') policy.fail('cluster', 'is required (cluster_header is not supported)');
    const fraction = policy.msg('runtime_fraction');
    return { cluster, percentage: fractionalPercent(fraction?.msg('default_value')) ?? 100 };
  });
}
