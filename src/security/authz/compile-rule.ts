/**
 * A policy rule compiled into clauses: every clause in `all` must match, and
 * for each set in `anyOf`, one of its groups must match in full.
 *
 * A `from` or `to` list with a single entry (the usual case) is flattened
 * into `all`, so most rules are one flat list. Clauses are ordered cheapest
 * and most selective first: operation fields (path, method, port, host),
 * then source fields, then `when` conditions (a header callback, a claim
 * walk). The order never changes the result, only how soon a miss is found.
 */

import type { CheckContext } from './check-context.js';
import {
  ACCOUNT,
  AccountSet,
  CLAIM,
  Clause,
  DEST_IP,
  HEADER,
  HOST,
  METHOD,
  NAMESPACE,
  PATH,
  PORT,
  PortSet,
  PRINCIPAL,
  REMOTE_IP,
  REQUEST_PRINCIPAL,
  SNI,
  SOURCE_IP,
  type ValueMatcher,
} from './clause.js';
import { IpRanges, parseIpBlock } from './ip.js';
import type { AuthzCondition, AuthzOperation, AuthzRule, AuthzSource } from './model.js';
import { type PatternOptions, StringPatterns } from './string-patterns.js';
import { parsePort } from './values.js';
import { parseWhenKey, type WhenKey } from './when-key.js';

/** Exact values and prefixes, one of which the attribute must have for a rule to match. */
export interface Gate {
  readonly exact: readonly string[];
  readonly prefixes: readonly string[];
}

/** The gate a group of ANDed clauses puts on `attr`, if one of them is indexable. */
function groupGate(clauses: readonly Clause[], attr: number): Gate | undefined {
  for (const c of clauses) {
    if (c.attr !== attr || !(c.pos instanceof StringPatterns)) continue;
    const keys = c.pos.gateKeys();
    if (keys !== undefined) return keys;
  }
  return undefined;
}

export class CompiledRule {
  constructor(
    readonly all: readonly Clause[],
    readonly anyOf: readonly (readonly (readonly Clause[])[])[],
  ) {}

  /**
   * A necessary condition on `attr` (PATH or PRINCIPAL) for this rule to
   * match, for the policy index; undefined when the rule has none.
   */
  gate(attr: number): Gate | undefined {
    const direct = groupGate(this.all, attr);
    if (direct !== undefined) return direct;
    // A from/to list with several entries gates only if every entry does.
    for (const groups of this.anyOf) {
      const gates = groups.map((g) => groupGate(g, attr));
      if (gates.every((g) => g !== undefined)) {
        return { exact: gates.flatMap((g) => g!.exact), prefixes: gates.flatMap((g) => g!.prefixes) };
      }
    }
    return undefined;
  }

  matches(ctx: CheckContext): boolean {
    const all = this.all;
    for (let i = 0; i < all.length; i++) if (!all[i]!.matches(ctx)) return false;
    const anyOf = this.anyOf;
    for (let s = 0; s < anyOf.length; s++) if (!anyGroup(anyOf[s]!, ctx)) return false;
    return true;
  }
}

function anyGroup(groups: readonly (readonly Clause[])[], ctx: CheckContext): boolean {
  next: for (let g = 0; g < groups.length; g++) {
    const group = groups[g]!;
    for (let i = 0; i < group.length; i++) if (!group[i]!.matches(ctx)) continue next;
    return true;
  }
  return false;
}

type Kind = 'string' | 'ip' | 'port' | 'account';

function matcher(kind: Kind, values: readonly (string | number)[] | undefined, ns: string, opts: PatternOptions) {
  if (values === undefined) return undefined;
  switch (kind) {
    case 'ip':
      return new IpRanges(values.map((v) => {
        const block = parseIpBlock(String(v));
        if (typeof block === 'string') throw new TypeError(`authorization: ${JSON.stringify(v)} ${block}`);
        return block;
      }));
    case 'port':
      return new PortSet(values.map((v) => {
        const port = parsePort(v);
        if (typeof port === 'string') throw new TypeError(`authorization: ${port}`);
        return port;
      }));
    case 'account':
      return new AccountSet(values.map(String), ns);
    default:
      return new StringPatterns(values.map(String), opts);
  }
}

/** A clause for a (field, notField) pair; undefined when neither is set. */
function pair(
  out: Clause[],
  attr: number,
  kind: Kind,
  values: readonly (string | number)[] | undefined,
  notValues: readonly (string | number)[] | undefined,
  ns: string,
  opts: PatternOptions = {},
  header = '',
  claim: readonly string[] = [],
): void {
  if (values === undefined && notValues === undefined) return;
  const pos: ValueMatcher | undefined = matcher(kind, values, ns, opts);
  const neg: ValueMatcher | undefined = matcher(kind, notValues, ns, opts);
  out.push(new Clause(attr, pos, neg, header, claim));
}

function operationClauses(op: AuthzOperation, ns: string): Clause[] {
  const out: Clause[] = [];
  pair(out, PATH, 'string', op.paths, op.notPaths, ns, { templates: true });
  pair(out, METHOD, 'string', op.methods, op.notMethods, ns);
  pair(out, PORT, 'port', op.ports, op.notPorts, ns);
  pair(out, HOST, 'string', op.hosts, op.notHosts, ns, { fold: true });
  return out;
}

function sourceClauses(src: AuthzSource, ns: string): Clause[] {
  const out: Clause[] = [];
  pair(out, PRINCIPAL, 'string', src.principals, src.notPrincipals, ns);
  pair(out, NAMESPACE, 'string', src.namespaces, src.notNamespaces, ns);
  pair(out, ACCOUNT, 'account', src.serviceAccounts, src.notServiceAccounts, ns);
  pair(out, REQUEST_PRINCIPAL, 'string', src.requestPrincipals, src.notRequestPrincipals, ns);
  pair(out, SOURCE_IP, 'ip', src.ipBlocks, src.notIpBlocks, ns);
  pair(out, REMOTE_IP, 'ip', src.remoteIpBlocks, src.notRemoteIpBlocks, ns);
  return out;
}

const WHEN_ATTRS: Readonly<Record<WhenKey['attribute'], readonly [number, Kind]>> = {
  'source.ip': [SOURCE_IP, 'ip'],
  'remote.ip': [REMOTE_IP, 'ip'],
  'source.namespace': [NAMESPACE, 'string'],
  'source.principal': [PRINCIPAL, 'string'],
  'source.serviceAccount': [ACCOUNT, 'account'],
  'request.auth.principal': [REQUEST_PRINCIPAL, 'string'],
  'destination.ip': [DEST_IP, 'ip'],
  'destination.port': [PORT, 'port'],
  'connection.sni': [SNI, 'string'],
  'request.headers': [HEADER, 'string'],
  'request.auth.claims': [CLAIM, 'string'],
};

function conditionClause(out: Clause[], cond: AuthzCondition, ns: string): void {
  const key = parseWhenKey(cond.key);
  if (typeof key === 'string') throw new TypeError(`authorization: when key ${cond.key}: ${key}`);
  const [attr, kind] = WHEN_ATTRS[key.attribute];
  // Envoy's header presence match accepts an empty value; every other `*` needs one.
  const opts: PatternOptions = { emptyIsPresent: attr === HEADER };
  pair(out, attr, kind, cond.values, cond.notValues, ns, opts, key.header, key.claim);
}

/** `ns` is the policy's namespace: the default for bare serviceAccounts. */
export function compileRule(rule: AuthzRule, ns: string): CompiledRule {
  const all: Clause[] = [];
  const anyOf: Clause[][][] = [];
  const to = rule.to?.map((op) => operationClauses(op, ns));
  const from = rule.from?.map((src) => sourceClauses(src, ns));
  for (const groups of [to, from]) {
    if (groups === undefined) continue;
    if (groups.length === 1) all.push(...groups[0]!);
    else anyOf.push(groups);
  }
  for (const cond of rule.when ?? []) conditionClause(all, cond, ns);
  return new CompiledRule(all, anyOf);
}
