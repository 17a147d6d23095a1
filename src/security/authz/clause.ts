/**
 * One compiled condition on one request attribute: a source or operation
 * field (`principals`, `notPaths`, …) or a `when` entry. `pos` is the list
 * that must match (`principals`, `values`), `neg` the list that must not
 * (`notPrincipals`, `notValues`); a clause may have both.
 *
 * An attribute the request does not have (no peer certificate, no JWT, no
 * such header or claim) matches no value, so a positive list fails and a
 * negative one passes. That is Envoy's RBAC behaviour, which Istio's policies
 * compile to: `notPrincipals: ["*"]` matches plaintext requests.
 *
 * One class for every attribute, switching on a number, keeps the rule loop's
 * call site monomorphic; each branch calls one matcher class.
 */
import type { CheckContext } from './check-context.js';
import { type IpFamily, type IpRanges, NOT_IP } from './ip.js';
import { StringPatterns } from './string-patterns.js';

export const PRINCIPAL = 0;
export const NAMESPACE = 1;
export const ACCOUNT = 2;
export const REQUEST_PRINCIPAL = 3;
export const SOURCE_IP = 4;
export const REMOTE_IP = 5;
export const DEST_IP = 6;
export const HOST = 7;
export const PORT = 8;
export const METHOD = 9;
export const PATH = 10;
export const HEADER = 11;
export const CLAIM = 12;
export const SNI = 13;

export class PortSet {
  readonly #ports: ReadonlySet<number>;

  constructor(ports: readonly number[]) {
    this.#ports = new Set(ports);
  }

  test(port: number): boolean {
    return this.#ports.has(port);
  }
}

/** serviceAccounts: (namespace, name) pairs, matched against the principal's `/ns/…/sa/…`. */
export class AccountSet {
  readonly #namespaces: readonly string[];
  readonly #names: readonly string[];

  /** `accounts` are `name` or `namespace/name`; a bare name is in `defaultNamespace`. */
  constructor(accounts: readonly string[], defaultNamespace: string) {
    const split = accounts.map((a) => (a.includes('/') ? a.split('/') : [defaultNamespace, a]));
    this.#namespaces = split.map((s) => s[0]!);
    this.#names = split.map((s) => s[1]!);
  }

  test(principal: string, nsStart: number, nsEnd: number, saStart: number, saEnd: number): boolean {
    const namespaces = this.#namespaces;
    for (let i = 0; i < namespaces.length; i++) {
      const ns = namespaces[i]!;
      const sa = this.#names[i]!;
      if (
        ns.length === nsEnd - nsStart &&
        sa.length === saEnd - saStart &&
        principal.startsWith(ns, nsStart) &&
        principal.startsWith(sa, saStart)
      ) {
        return true;
      }
    }
    return false;
  }
}

export type ValueMatcher = StringPatterns | IpRanges | PortSet | AccountSet;

export class Clause {
  /** What the clause says when the request lacks the attribute. */
  readonly #absent: boolean;
  /**
   * For a clause with one exact value or one prefix and no `not…` list (a
   * rule's `methods: [GET]`, `paths: [/users/*]`): that value, matched in
   * place by #text without a call to StringPatterns.test and its walk over
   * empty lists (~120 instructions per clause under callgrind).
   */
  readonly #single: string | undefined;
  readonly #singleIsPrefix: boolean;
  /**
   * A PATH clause whose single value has no `?` or `#`: matched against the
   * whole request path, never needing where its query starts (ctx.pathEnd(),
   * two indexOf calls, ~230 instructions). A value without `?` or `#` that
   * the path starts with lies inside the path proper by construction.
   */
  readonly #wholePath: boolean;

  constructor(
    readonly attr: number,
    readonly pos: ValueMatcher | undefined,
    readonly neg: ValueMatcher | undefined,
    /** Lower-case header name, for HEADER. */
    readonly header = '',
    /** Claim names, outermost first, for CLAIM. */
    readonly claim: readonly string[] = [],
  ) {
    this.#absent = pos === undefined;
    const single = neg === undefined && pos instanceof StringPatterns ? pos.single() : undefined;
    this.#single = single?.value;
    this.#singleIsPrefix = single?.prefix ?? false;
    this.#wholePath = attr === PATH && single !== undefined && !/[?#]/.test(single.value);
  }

  matches(ctx: CheckContext): boolean {
    const req = ctx.req;
    // A switch is a chain of comparisons in case order: the commonest
    // attributes, a rule's path and method, come first.
    switch (this.attr) {
      case PATH:
        return this.#wholePath ? this.#singlePath(req.path) : this.#text(req.path, 0, ctx.pathEnd());
      case METHOD: {
        const m = req.method;
        return this.#text(m, 0, m.length);
      }
      case PRINCIPAL: {
        const p = req.principal;
        return p === undefined ? this.#absent : this.#text(p, ctx.principalStart(p), p.length);
      }
      case NAMESPACE:
        return ctx.locateNamespace() ? this.#text(req.principal!, ctx.nsStart, ctx.nsEnd) : this.#absent;
      case ACCOUNT:
        return ctx.locateAccount() ? this.#account(ctx) : this.#absent;
      case REQUEST_PRINCIPAL: {
        const v = req.requestPrincipal;
        return v === undefined ? this.#absent : this.#text(v, 0, v.length);
      }
      case HOST:
        return this.#host(ctx);
      case PORT: {
        const pos = this.pos as PortSet | undefined;
        const neg = this.neg as PortSet | undefined;
        return (pos === undefined || pos.test(req.port)) && (neg === undefined || !neg.test(req.port));
      }
      case SOURCE_IP:
        return this.#ip(ctx.sourceFamily(), ctx.src);
      case REMOTE_IP:
        return this.#ip(ctx.remoteFamily(), ctx.remote);
      case DEST_IP:
        return this.#ip(ctx.destFamily(), ctx.dest);
      case SNI: {
        const v = req.sni;
        return v === undefined ? this.#absent : this.#text(v, 0, v.length);
      }
      case HEADER: {
        const v = req.header(this.header);
        return v === undefined ? this.#absent : this.#text(v, 0, v.length);
      }
      default:
        return this.#claim(req.claims);
    }
  }

  #text(s: string, start: number, end: number): boolean {
    const single = this.#single;
    if (single !== undefined) {
      const n = single.length;
      if (this.#singleIsPrefix ? n > end - start : n !== end - start) return false;
      return start === 0 && n === s.length ? s === single : s.startsWith(single, start);
    }
    const pos = this.pos as StringPatterns | undefined;
    if (pos !== undefined && !pos.test(s, start, end)) return false;
    const neg = this.neg as StringPatterns | undefined;
    return neg === undefined || !neg.test(s, start, end);
  }

  /** #text(path, 0, pathEnd) for a #wholePath clause: an exact value must end where the path proper does. */
  #singlePath(path: string): boolean {
    const v = this.#single!;
    if (!path.startsWith(v)) return false;
    const n = v.length;
    if (this.#singleIsPrefix || n === path.length) return true;
    const c = path.charCodeAt(n);
    return c === 63 /* ? */ || c === 35 /* # */;
  }

  /** A host value matches with its port, or without it (`example.com` matches `example.com:8080`). */
  #host(ctx: CheckContext): boolean {
    const h = ctx.host();
    const end = ctx.hostEnd;
    const pos = this.pos as StringPatterns | undefined;
    if (pos !== undefined && !pos.test(h, 0, h.length) && !(end < h.length && pos.test(h, 0, end))) return false;
    const neg = this.neg as StringPatterns | undefined;
    return neg === undefined || !(neg.test(h, 0, h.length) || (end < h.length && neg.test(h, 0, end)));
  }

  #ip(family: IpFamily, ip: Uint32Array): boolean {
    if (family === NOT_IP) return this.#absent;
    const pos = this.pos as IpRanges | undefined;
    if (pos !== undefined && !pos.test(family, ip)) return false;
    const neg = this.neg as IpRanges | undefined;
    return neg === undefined || !neg.test(family, ip);
  }

  #account(ctx: CheckContext): boolean {
    const p = ctx.req.principal!;
    const pos = this.pos as AccountSet | undefined;
    if (pos !== undefined && !pos.test(p, ctx.nsStart, ctx.nsEnd, ctx.saStart, ctx.saEnd)) return false;
    const neg = this.neg as AccountSet | undefined;
    return neg === undefined || !neg.test(p, ctx.nsStart, ctx.nsEnd, ctx.saStart, ctx.saEnd);
  }

  /** A string claim is matched as is; a list claim matches when any string in it does. */
  #claim(claims: Readonly<Record<string, unknown>> | undefined): boolean {
    let v: unknown = claims;
    const names = this.claim;
    for (let i = 0; i < names.length; i++) {
      if (v === null || typeof v !== 'object' || Array.isArray(v) || !Object.hasOwn(v, names[i]!)) return this.#absent;
      v = (v as Record<string, unknown>)[names[i]!];
    }
    if (typeof v === 'string') return this.#text(v, 0, v.length);
    if (!Array.isArray(v)) return this.#absent;
    const pos = this.pos as StringPatterns | undefined;
    const neg = this.neg as StringPatterns | undefined;
    if (pos !== undefined && !anyString(pos, v)) return false;
    return neg === undefined || !anyString(neg, v);
  }
}

function anyString(patterns: StringPatterns, list: readonly unknown[]): boolean {
  for (let i = 0; i < list.length; i++) {
    const item = list[i];
    if (typeof item === 'string' && patterns.test(item, 0, item.length)) return true;
  }
  return false;
}
