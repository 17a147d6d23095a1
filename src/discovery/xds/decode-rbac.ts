/**
 * Envoy RBAC filter configs read back into AuthorizationPolicies (our
 * compact form, validated afterwards by the same parser a file's policies
 * go through), so an inbound listener from the control plane configures
 * the same authorization engine a local file does.
 *
 * - The DENY filter's policies become DENY policies, the ALLOW filter's
 *   ALLOW policies (an ALLOW filter with no policy denies everything: an
 *   allow-nothing policy), `shadow_rules` with action LOG and a LOG action
 *   become AUDIT policies.
 * - An RBAC policy is an OR of principals AND an OR of permissions. Each
 *   principal (an AND of groups, each an OR of leaves or the NOT of one) is
 *   a `from` entry; each permission a `to` entry. The first group of a
 *   field fills it (`principals`, `notPaths`, …); a second group of the same
 *   field, and attributes with no field (headers, claims, SNI), become
 *   `when` conditions of the rule.
 * - istiod's names `ns[x]-policy[y]-rule[i]` regroup rules into policy `y`.
 *
 * Anything RBAC says that Istio's model cannot (CEL conditions, matchers,
 * two ALLOW filters, which would AND) is an error naming the field.
 */
import { type Leaf, permissionLeaf, principalLeaf } from './decode-rbac-leaf.js';
import { readRbacPolicyName } from './inbound-vocabulary.js';
import { ProtoReader } from './proto-reader.js';

type Obj = Record<string, unknown>;
type Side = { fields: Obj; when: Obj[] };

const SOURCE_FIELDS: Readonly<Record<string, string>> = {
  principals: 'source.principal',
  namespaces: 'source.namespace',
  serviceAccounts: 'source.serviceAccount',
  requestPrincipals: 'request.auth.principal',
  ipBlocks: 'source.ip',
  remoteIpBlocks: 'remote.ip',
};
const OPERATION_FIELDS: Readonly<Record<string, string>> = { hosts: '', methods: '', paths: '', ports: 'destination.port' };

const notOf = (field: string) => `not${field[0]!.toUpperCase()}${field.slice(1)}`;

/** The items of an AND (`and_ids`/`and_rules`), or the one item; undefined for `any`. */
function andItems(r: ProtoReader, principal: boolean): ProtoReader[] | undefined {
  const kind = r.oneof(principal ? 'identifier' : 'rule');
  if (kind === 'any') return undefined;
  const and = principal ? 'and_ids' : 'and_rules';
  if (kind === and) return r.msg(and)?.list(principal ? 'ids' : 'rules') ?? [];
  return [r];
}

/** One group: the leaves of an OR (or a lone leaf), and whether it is negated. */
function groupLeaves(g: ProtoReader, principal: boolean): { leaves: Leaf[]; negate: boolean; at: string } {
  const oneof = principal ? 'identifier' : 'rule';
  const [or, not, list] = principal ? ['or_ids', 'not_id', 'ids'] : ['or_rules', 'not_rule', 'rules'];
  let negate = false;
  let r = g;
  if (r.oneof(oneof) === not) {
    negate = true;
    r = r.msg(not) ?? r.fail(not, 'is empty');
  }
  const readLeaf = principal ? principalLeaf : permissionLeaf;
  const leaves = r.oneof(oneof) === or ? (r.msg(or)?.list(list) ?? []).map(readLeaf) : [readLeaf(r)];
  if (leaves.length === 0) r.fail(or, 'is empty');
  const field = leaves[0]!.field;
  if (leaves.some((l) => l.field !== field)) r.fail(or, `mixes attributes (${[...new Set(leaves.map((l) => l.field))].join(', ')}); Istio ORs values of one attribute only`);
  return { leaves, negate, at: r.path };
}

function side(items: ProtoReader[], principal: boolean): Side {
  const known = principal ? SOURCE_FIELDS : OPERATION_FIELDS;
  const fields: Obj = {};
  const when: Obj[] = [];
  for (const item of items) {
    const { leaves, negate } = groupLeaves(item, principal);
    const field = leaves[0]!.field;
    const values = leaves.map((l) => (field === 'ports' ? Number(l.value) : l.value));
    const key = negate ? notOf(field) : field;
    if (field in known && fields[key] === undefined) {
      fields[key] = values;
      continue;
    }
    const whenKey = field in known ? known[field] : field;
    if (whenKey === '' || whenKey === undefined) item.fail('', `sets ${field} twice in one rule, which Istio cannot write`);
    when.push({ key: whenKey, [negate ? 'notValues' : 'values']: values.map(String) });
  }
  // Istio refuses serviceAccounts beside principals or namespaces in one source: the accounts become a condition.
  const identity = ['principals', 'notPrincipals', 'namespaces', 'notNamespaces'].some((k) => fields[k] !== undefined);
  for (const k of ['serviceAccounts', 'notServiceAccounts']) {
    if (identity && fields[k] !== undefined) {
      when.push({ key: 'source.serviceAccount', [k === 'serviceAccounts' ? 'values' : 'notValues']: fields[k] });
      delete fields[k];
    }
  }
  return { fields, when };
}

const sameWhen = (sides: Side[]) => sides.every((s) => JSON.stringify(s.when) === JSON.stringify(sides[0]!.when));

/** One RBAC policy as Istio rules: usually one; a cross product when entries carry different conditions. */
function policyRules(p: ProtoReader): Obj[] {
  const extra = p.setAmong(['condition', 'checked_condition']);
  if (extra.length > 0) p.fail(extra[0]!, 'is not supported: a CEL condition has no Istio policy form');
  const principals = p.list('principals').map((r) => andItems(r, true));
  const permissions = p.list('permissions').map((r) => andItems(r, false));
  if (principals.length === 0) p.fail('principals', 'is empty: the policy would match nothing');
  if (permissions.length === 0) p.fail('permissions', 'is empty: the policy would match nothing');
  const from = principals.some((x) => x === undefined) ? [undefined] : principals.map((x) => side(x!, true));
  const to = permissions.some((x) => x === undefined) ? [undefined] : permissions.map((x) => side(x!, false));
  const rule = (f: (Side | undefined)[], t: (Side | undefined)[]): Obj => {
    const fromFields = f.every((s) => s !== undefined && Object.keys(s.fields).length > 0) ? f.map((s) => s!.fields) : undefined;
    const toFields = t.every((s) => s !== undefined && Object.keys(s.fields).length > 0) ? t.map((s) => s!.fields) : undefined;
    const when = [...(f[0]?.when ?? []), ...(t[0]?.when ?? [])];
    return { ...(fromFields ? { from: fromFields } : {}), ...(toFields ? { to: toFields } : {}), ...(when.length > 0 ? { when } : {}) };
  };
  const fs = from.filter((s): s is Side => s !== undefined);
  const ts = to.filter((s): s is Side => s !== undefined);
  const emptyEntry = (list: (Side | undefined)[]) => list.some((s) => s !== undefined && Object.keys(s.fields).length === 0) && list.length > 1;
  if (sameWhen(fs) && sameWhen(ts) && !emptyEntry(from) && !emptyEntry(to)) return [rule(from, to)];
  return from.flatMap((f) => to.map((t) => rule([f], [t])));
}

const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

function policyName(raw: string, fallback: string): string {
  const clean = raw.toLowerCase().replace(/[^a-z0-9.-]+/g, '-').replace(/^[-.]+|[-.]+$/g, '').slice(0, 200);
  return NAME.test(clean) ? clean : fallback;
}

/** The policies of one RBAC `rules` (or `shadow_rules`) message, with the given action. */
function decodeRules(rules: ProtoReader, action: string, label: string): Obj[] {
  const extra = rules.setAmong(['audit_logging_options']);
  if (extra.length > 0) rules.fail(extra[0]!, 'is not supported');
  const byName = new Map<string, { name: string; rules: Obj[] }>();
  const policies = rules.msg('policies');
  for (const key of Object.keys(policies?.raw ?? {})) {
    const p = policies!.msg(key) ?? new ProtoReader({}, policies!.at(key));
    const istio = readRbacPolicyName(key);
    const group = istio === undefined ? `${label}-${key}` : `${istio.namespace}/${istio.name}`;
    const entry = byName.get(group) ?? { name: policyName(istio?.name ?? key, `${label}-${byName.size}`), rules: [] };
    entry.rules.push(...policyRules(new ProtoReader(p.raw, `${rules.path}.policies[${JSON.stringify(key)}]`)));
    byName.set(group, entry);
  }
  const used = new Set<string>();
  const out: Obj[] = [];
  for (const [group, entry] of byName) {
    // The same name in two namespaces (the workload's and the root) stays two policies.
    let name = entry.name;
    if (used.has(name)) name = policyName(`${name}.${group.split('/')[0]}`, `${label}-${out.length}`);
    used.add(name);
    out.push({ name, action, rules: entry.rules });
  }
  return out;
}

export interface RbacDecoder {
  /** Add one RBAC filter's config; throws FieldError naming the field. */
  add(config: ProtoReader): void;
  /** The policies, in filter order (compact form, not yet validated). */
  readonly policies: Obj[];
}

export function rbacDecoder(): RbacDecoder {
  const policies: Obj[] = [];
  let allowFilters = 0;
  return {
    policies,
    add(config) {
      const extra = config.setAmong(['matcher', 'shadow_matcher']);
      if (extra.length > 0) config.fail(extra[0]!, 'is not supported; write RBAC policies in `rules`');
      const rules = config.msg('rules');
      if (rules !== undefined) {
        const action = rules.str('action') || 'ALLOW';
        if (action === 'ALLOW') {
          allowFilters += 1;
          if (allowFilters > 1) config.fail('rules.action', 'a second ALLOW filter would have to be satisfied as well, which Istio policies cannot say');
          const decoded = decodeRules(rules, 'ALLOW', 'allow');
          // No policy in an ALLOW filter: nothing is allowed (Istio's allow-nothing).
          policies.push(...(decoded.length > 0 ? decoded : [{ name: 'allow-nothing', action: 'ALLOW' }]));
        } else policies.push(...decodeRules(rules, action === 'LOG' ? 'AUDIT' : 'DENY', action === 'LOG' ? 'audit' : 'deny'));
      }
      const shadow = config.msg('shadow_rules');
      if (shadow !== undefined && shadow.str('action') === 'LOG') policies.push(...decodeRules(shadow, 'AUDIT', 'audit'));
    },
  };
}
