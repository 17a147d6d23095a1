/**
 * The compiled policies of one action, and which of them a request can
 * possibly match, found without evaluating each one.
 *
 * Most policies name the paths or the callers they are about. Each policy's
 * *gate* is the set of exact paths and path prefixes (or principals) one of
 * which every rule of it requires; a radix tree over the gates is walked once
 * per check, marking candidates, and only marked policies (plus those without
 * a gate) are evaluated, in input order, so the first match is the same one
 * a full scan finds. The index is a filter, never a decision: a candidate is
 * still evaluated in full.
 *
 * A list gets an index on whichever of path and principal gates more of its
 * policies, and only when it is long enough for the walk to pay for itself.
 */
import type { CheckContext } from './check-context.js';
import { PATH, PRINCIPAL } from './clause.js';
import type { CompiledRule, Gate } from './compile-rule.js';
import { type AuthzAllowed, type AuthzDenied, allowedBy, deniedBy } from './decision.js';
import { GateTree } from './gate-tree.js';

/** Below this many policies a plain scan is as fast as the walk. */
const INDEX_MIN = 8;

export class CompiledPolicy {
  readonly allowed: AuthzAllowed;
  readonly denied: AuthzDenied;

  constructor(
    /** `namespace/name`. */
    readonly id: string,
    readonly rules: readonly CompiledRule[],
  ) {
    this.allowed = allowedBy(id);
    this.denied = deniedBy(id);
  }

  matches(ctx: CheckContext): boolean {
    const rules = this.rules;
    for (let i = 0; i < rules.length; i++) if (rules[i]!.matches(ctx)) return true;
    return false;
  }

  /** Every rule's gate on `attr`, merged; undefined when a rule has none. No rules: an empty gate. */
  gate(attr: number): Gate | undefined {
    const gates = this.rules.map((r) => r.gate(attr));
    if (gates.some((g) => g === undefined)) return undefined;
    return { exact: gates.flatMap((g) => g!.exact), prefixes: gates.flatMap((g) => g!.prefixes) };
  }
}

/** How many gated candidates are sorted and merged; beyond this, a scan of the marks is cheaper. */
export const FOUND_MAX = 32;

export class PolicyList {
  readonly policies: readonly CompiledPolicy[];
  /** PATH or PRINCIPAL when indexed. */
  readonly #attr: number;
  readonly #tree: GateTree | undefined;
  /** 1 for policies without a gate: always evaluated. */
  readonly #ungated: Uint8Array;
  /** The same policies as ids, ascending. */
  readonly #ungatedIds: Int32Array;

  constructor(policies: readonly CompiledPolicy[]) {
    this.policies = policies;
    const byPath = policies.map((p) => p.gate(PATH));
    const byPrincipal = policies.map((p) => p.gate(PRINCIPAL));
    const count = (gates: (Gate | undefined)[]) => gates.filter((g) => g !== undefined).length;
    const usePath = count(byPath) >= count(byPrincipal);
    const gates = usePath ? byPath : byPrincipal;
    this.#attr = usePath ? PATH : PRINCIPAL;
    const indexed = policies.length >= INDEX_MIN && count(gates) > 0;
    const tree = indexed ? new GateTree() : undefined;
    this.#ungated = new Uint8Array(policies.length);
    const ungated: number[] = [];
    gates.forEach((gate, id) => {
      if (tree === undefined || gate === undefined) {
        this.#ungated[id] = 1;
        ungated.push(id);
        return;
      }
      for (const key of gate.exact) tree.add(key, id, true);
      for (const key of gate.prefixes) tree.add(key, id, false);
    });
    this.#ungatedIds = Int32Array.from(ungated);
    this.#tree = tree;
  }

  get length(): number {
    return this.policies.length;
  }

  firstMatch(ctx: CheckContext): CompiledPolicy | undefined {
    const list = this.policies;
    if (this.#tree === undefined) {
      for (let i = 0; i < list.length; i++) if (list[i]!.matches(ctx)) return list[i];
      return undefined;
    }
    const order = ctx.order;
    const m = this.#candidates(this.#tree, ctx);
    for (let k = 0; k < m; k++) {
      const p = list[order[k]!]!;
      if (p.matches(ctx)) return p;
    }
    return undefined;
  }

  /** The ids of every matching policy (for AUDIT), or undefined when none matches. */
  allMatches(ctx: CheckContext): string[] | undefined {
    const list = this.policies;
    const tree = this.#tree;
    const order = ctx.order;
    const m = tree === undefined ? list.length : this.#candidates(tree, ctx);
    let ids: string[] | undefined;
    for (let k = 0; k < m; k++) {
      const p = list[tree === undefined ? k : order[k]!]!;
      if (!p.matches(ctx)) continue;
      if (ids === undefined) ids = [];
      ids.push(p.id);
    }
    return ids;
  }

  /**
   * Puts the candidates (ungated, and gated ones the request meets) into
   * ctx.order, ascending, and returns how many.
   */
  #candidates(tree: GateTree, ctx: CheckContext): number {
    const epoch = ctx.nextEpoch();
    const marks = ctx.marks;
    const found = ctx.found;
    const req = ctx.req;
    let n = 0;
    if (this.#attr === PATH) {
      n = tree.collect(req.path, 0, ctx.pathEnd(), marks, epoch, found);
    } else {
      const p = req.principal;
      if (p !== undefined) n = tree.collect(p, ctx.principalStart(p), p.length, marks, epoch, found);
    }
    const order = ctx.order;
    if (n < 0) {
      // Too many to sort: read the marks in id order instead.
      const ungated = this.#ungated;
      let m = 0;
      for (let i = 0; i < ungated.length; i++) if (ungated[i] === 1 || marks[i] === epoch) order[m++] = i;
      return m;
    }
    for (let i = 1; i < n; i++) {
      const id = found[i]!;
      let j = i - 1;
      while (j >= 0 && found[j]! > id) {
        found[j + 1] = found[j]!;
        j--;
      }
      found[j + 1] = id;
    }
    const ungated = this.#ungatedIds;
    let a = 0;
    let b = 0;
    let m = 0;
    while (a < ungated.length || b < n) {
      order[m++] = b >= n || (a < ungated.length && ungated[a]! < found[b]!) ? ungated[a++]! : found[b++]!;
    }
    return m;
  }
}
