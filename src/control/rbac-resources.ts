/**
 * AuthorizationPolicy → Envoy's RBAC HTTP filter config, as istiod writes
 * it for proxyless gRPC servers (gRFC A41): one RBAC filter for the DENY
 * policies and one for the ALLOW policies, each Istio rule one RBAC policy
 * named `ns[<ns>]-policy[<name>]-rule[<i>]`.
 *
 * A rule's `from` entries become the policy's principals and its `to`
 * entries its permissions (both lists are ORs); each field is an OR of its
 * values, the fields of one entry an AND; `notX` is a NOT of that OR. `when`
 * conditions are ANDed into every principal (source attributes) or every
 * permission (destination attributes), which is what Istio's rule means.
 *
 * AUDIT policies become the DENY filter's `shadow_rules` with action LOG:
 * evaluated and reported, never enforced, and ignored by gRPC (which refuses
 * a LOG action in `rules`).
 *
 * What gRPC's RBAC cannot evaluate (request principals and JWT claims, which
 * it never matches) is still written, the way istiod writes it, and reported
 * as a warning naming the policy and field. Path templates (`{*}`, `{**}`)
 * are written as the regex they stand for, which every gRPC version reads.
 */

import {
  AUTHN_METADATA,
  CLAIMS_KEY,
  namespaceRegex,
  pathTemplateRegex,
  REQUEST_PRINCIPAL_KEY,
  rbacPolicyName,
  serviceAccountRegex,
} from '../discovery/xds/inbound-vocabulary.js';
import type { AuthorizationPolicy, AuthzCondition, AuthzOperation, AuthzRule, AuthzSource } from '../security/authz/model.js';
import { isPathTemplate } from '../security/authz/path-template.js';
import { parseWhenKey } from '../security/authz/when-key.js';

type Obj = Record<string, unknown>;
export type RbacWarn = (at: string, message: string) => void;

export interface RbacFilters {
  /** RBAC config for the DENY filter (with AUDIT as shadow rules), when any policy needs it. */
  readonly deny: Obj | undefined;
  /** RBAC config for the ALLOW filter, when any ALLOW policy applies (none matching denies). */
  readonly allow: Obj | undefined;
}

const GRPC_NEVER = "gRPC servers (gRFC A41) never match it, so on them a DENY rule using it never denies and an ALLOW rule never allows; proxyless servers enforce it";

/** An Istio string pattern (`x`, `x*`, `*x`, `*`) as a StringMatcher, `prefix` put before the value. */
export function stringMatcher(pattern: string, prefix = ''): Obj {
  if (pattern === '*') return prefix === '' ? { safe_regex: { regex: '.+' } } : { prefix };
  if (pattern.startsWith('*')) return { suffix: pattern.slice(1) };
  if (pattern.endsWith('*')) return { prefix: prefix + pattern.slice(0, -1) };
  return { exact: prefix + pattern };
}

function cidr(block: string): Obj {
  const slash = block.indexOf('/');
  const address = slash < 0 ? block : block.slice(0, slash);
  const len = slash < 0 ? (address.includes(':') ? 128 : 32) : Number(block.slice(slash + 1));
  return { address_prefix: address, prefix_len: { value: len } };
}

/**
 * A header matcher in the fields gRPC has read longest (`exact_match`, …):
 * Debian's grpcio 1.51 refuses `string_match` in RBAC. `hosts` are compared
 * lower-cased, as proxyless compares them; gRPC peers compare as written.
 */
function header(name: string, pattern: string): Obj {
  if (pattern === '*') return { name, present_match: true };
  if (pattern.startsWith('*')) return { name, suffix_match: pattern.slice(1) };
  if (pattern.endsWith('*')) return { name, prefix_match: pattern.slice(0, -1) };
  return { name, exact_match: pattern };
}

function authnMetadata(path: readonly string[], pattern: string, list: boolean): Obj {
  const value = list ? { list_match: { one_of: { string_match: stringMatcher(pattern) } } } : { string_match: stringMatcher(pattern) };
  return { filter: AUTHN_METADATA, path: path.map((key) => ({ key })), value };
}

/** The leaves of one source attribute, for each value. */
function sourceLeaf(kind: string, value: string, ns: string): Obj {
  switch (kind) {
    case 'principals':
      return { authenticated: { principal_name: stringMatcher(value, 'spiffe://') } };
    case 'namespaces':
      return { authenticated: { principal_name: { safe_regex: { regex: namespaceRegex(value) } } } };
    case 'serviceAccounts': {
      const [a, b] = value.includes('/') ? value.split('/') : [ns, value];
      return { authenticated: { principal_name: { safe_regex: { regex: serviceAccountRegex(a!, b!) } } } };
    }
    case 'requestPrincipals':
      return { metadata: authnMetadata([REQUEST_PRINCIPAL_KEY], value, false) };
    case 'ipBlocks':
      return { direct_remote_ip: cidr(value) };
    default:
      return { remote_ip: cidr(value) };
  }
}

const SOURCE_FIELDS = ['principals', 'requestPrincipals', 'namespaces', 'serviceAccounts', 'ipBlocks', 'remoteIpBlocks'] as const;
const OPERATION_FIELDS = ['hosts', 'ports', 'methods', 'paths'] as const;

function operationLeaves(kind: string, value: string | number): Obj[] {
  switch (kind) {
    case 'hosts': {
      const host = String(value);
      const exact = { header: header(':authority', host.toLowerCase()) };
      // Istio's hosts match with or without a port; gRPC's :authority carries one.
      return host.includes('*') || host.includes(':') ? [exact] : [exact, { header: header(':authority', `${host.toLowerCase()}:*`) }];
    }
    case 'ports':
      return [{ destination_port: Number(value) }];
    case 'methods':
      return [{ header: header(':method', String(value)) }];
    default: {
      const path = String(value);
      if (isPathTemplate(path)) return [{ url_path: { path: { safe_regex: { regex: pathTemplateRegex(path) } } } }];
      return [{ url_path: { path: stringMatcher(path) } }];
    }
  }
}

/** OR of `leaves` (a NOT of it when `negate`), in the principal or permission dialect. */
function group(leaves: Obj[], negate: boolean, principal: boolean): Obj {
  const or = principal ? { or_ids: { ids: leaves } } : { or_rules: { rules: leaves } };
  if (!negate) return or;
  return principal ? { not_id: or } : { not_rule: or };
}

/** A `when` condition: which side it belongs to, and its group. */
function conditionGroups(cond: AuthzCondition, ns: string): { principal: boolean; groups: Obj[] } {
  const key = parseWhenKey(cond.key);
  if (typeof key === 'string') throw new Error(`when key ${cond.key}: ${key}`);
  const leaf = (value: string): { principal: boolean; leaf: Obj } => {
    switch (key.attribute) {
      case 'source.ip':
        return { principal: true, leaf: sourceLeaf('ipBlocks', value, ns) };
      case 'remote.ip':
        return { principal: true, leaf: sourceLeaf('remoteIpBlocks', value, ns) };
      case 'source.namespace':
        return { principal: true, leaf: sourceLeaf('namespaces', value, ns) };
      case 'source.principal':
        return { principal: true, leaf: sourceLeaf('principals', value, ns) };
      case 'source.serviceAccount':
        return { principal: true, leaf: sourceLeaf('serviceAccounts', value, ns) };
      case 'request.auth.principal':
        return { principal: true, leaf: sourceLeaf('requestPrincipals', value, ns) };
      case 'request.headers':
        return { principal: true, leaf: { header: header(key.header!, value) } };
      case 'request.auth.claims':
        return { principal: true, leaf: { metadata: authnMetadata([CLAIMS_KEY, ...key.claim!], value, true) } };
      case 'destination.ip':
        return { principal: false, leaf: { destination_ip: cidr(value) } };
      case 'destination.port':
        return { principal: false, leaf: { destination_port: Number(value) } };
      default:
        return { principal: false, leaf: { requested_server_name: stringMatcher(value) } };
    }
  };
  const principal = leaf('x').principal;
  const groups: Obj[] = [];
  if (cond.values !== undefined) groups.push(group(cond.values.map((v) => leaf(v).leaf), false, principal));
  if (cond.notValues !== undefined) groups.push(group(cond.notValues.map((v) => leaf(v).leaf), true, principal));
  return { principal, groups };
}

function sourceGroups(src: AuthzSource, ns: string): Obj[] {
  const out: Obj[] = [];
  for (const field of SOURCE_FIELDS) {
    const not = `not${field[0]!.toUpperCase()}${field.slice(1)}` as keyof AuthzSource;
    const values = src[field];
    const notValues = src[not];
    if (values !== undefined) out.push(group(values.map((v) => sourceLeaf(field, v, ns)), false, true));
    if (notValues !== undefined) out.push(group(notValues.map((v) => sourceLeaf(field, v, ns)), true, true));
  }
  return out;
}

function operationGroups(op: AuthzOperation): Obj[] {
  const out: Obj[] = [];
  for (const field of OPERATION_FIELDS) {
    const not = `not${field[0]!.toUpperCase()}${field.slice(1)}` as keyof AuthzOperation;
    const values = op[field] as readonly (string | number)[] | undefined;
    const notValues = op[not] as readonly (string | number)[] | undefined;
    if (values !== undefined) out.push(group(values.flatMap((v) => operationLeaves(field, v)), false, false));
    if (notValues !== undefined) out.push(group(notValues.flatMap((v) => operationLeaves(field, v)), true, false));
  }
  return out;
}

function rulePolicy(rule: AuthzRule, ns: string): Obj {
  const principalConds: Obj[] = [];
  const permissionConds: Obj[] = [];
  for (const cond of rule.when ?? []) {
    const c = conditionGroups(cond, ns);
    (c.principal ? principalConds : permissionConds).push(...c.groups);
  }
  const entries = (parts: Obj[][] | undefined, conds: Obj[], principal: boolean): Obj[] => {
    const list = (parts ?? [[]]).map((p) => [...p, ...conds]);
    return list.map((items) => {
      if (items.length === 0) return { any: true };
      return principal ? { and_ids: { ids: items } } : { and_rules: { rules: items } };
    });
  };
  return {
    principals: entries(rule.from?.map((s) => sourceGroups(s, ns)), principalConds, true),
    permissions: entries(rule.to?.map(operationGroups), permissionConds, false),
  };
}

/** What gRPC peers cannot evaluate in `rule`, for the warning. */
function grpcGaps(rule: AuthzRule): string[] {
  const gaps: string[] = [];
  if (rule.from?.some((s) => s.requestPrincipals !== undefined || s.notRequestPrincipals !== undefined)) gaps.push('requestPrincipals');
  for (const c of rule.when ?? []) if (c.key.startsWith('request.auth.')) gaps.push(`when ${c.key}`);
  return gaps;
}

/**
 * The RBAC filters for the policies that apply to one workload (already
 * selected). `namespace` is the workload's, the home of policies that name none.
 */
export function rbacFilters(policies: readonly AuthorizationPolicy[], namespace: string, warn: RbacWarn): RbacFilters {
  const deny: Obj = {};
  const allow: Obj = {};
  const audit: Obj = {};
  let allowPolicies = 0;
  for (const policy of policies) {
    const ns = policy.namespace ?? namespace;
    const target = policy.action === 'DENY' ? deny : policy.action === 'AUDIT' ? audit : allow;
    if (policy.action === 'ALLOW') allowPolicies += 1;
    (policy.rules ?? []).forEach((rule, i) => {
      const at = `AuthorizationPolicy ${ns}/${policy.name}.spec.rules[${i}]`;
      const gaps = grpcGaps(rule);
      if (gaps.length > 0) warn(at, `uses ${gaps.join(', ')}: ${GRPC_NEVER}`);
      target[rbacPolicyName(ns, policy.name, i)] = rulePolicy(rule, ns);
    });
  }
  const hasAudit = Object.keys(audit).length > 0;
  const denyConfig =
    Object.keys(deny).length > 0 || hasAudit
      ? { rules: { action: 'DENY', policies: deny }, ...(hasAudit ? { shadow_rules: { action: 'LOG', policies: audit } } : {}) }
      : undefined;
  // An ALLOW policy without rules still makes the filter: with no policy in it, every request is denied (Istio's allow-nothing).
  const allowConfig = allowPolicies > 0 ? { rules: { action: 'ALLOW', policies: allow } } : undefined;
  return { deny: denyConfig, allow: allowConfig };
}
