/**
 * Header changes a route asks for (Istio's `headers.request` and
 * `headers.response`), compiled once per config update and applied per
 * request to undici's header shapes.
 *
 * Applying a mutation is: remove, then set (replacing every value of that
 * name), then add (appending). Names are compared ASCII case-insensitively
 * without lowercasing copies, since callers do not always lowercase theirs.
 * Mutations are small (a few names), so lookups are linear scans: cheaper
 * than building a Set per request, and a HeaderMutation stays a plain value
 * that callers can write as a literal.
 */
import type { HeaderOperations } from '../config/route-schema.js';
import { sameName } from '../net/headers.js';

export interface HeaderMutation {
  readonly set: readonly [string, string][];
  readonly add: readonly [string, string][];
  readonly remove: readonly string[];
}

type Pairs = [string, string][];

/** undefined when the config changes nothing, so callers can skip the copy. */
export function compileHeaderMutation(cfg: HeaderOperations | undefined): HeaderMutation | undefined {
  if (cfg === undefined) return undefined;
  const set: Pairs = Object.entries(cfg.set ?? {}).map(([k, v]) => [k.toLowerCase(), v]);
  const add: Pairs = Object.entries(cfg.add ?? {}).map(([k, v]) => [k.toLowerCase(), v]);
  const remove = (cfg.remove ?? []).map((n) => n.toLowerCase());
  return set.length + add.length + remove.length === 0 ? undefined : { set, add, remove };
}

/**
 * One mutation equivalent to applying each in turn, so a later set or
 * remove overrides what an earlier mutation set or added for that name.
 */
export function mergeMutations(...mutations: (HeaderMutation | undefined)[]): HeaderMutation | undefined {
  const present = mutations.filter((m): m is HeaderMutation => m !== undefined);
  if (present.length <= 1) return present[0];
  let set: Pairs = [];
  let add: Pairs = [];
  const remove: string[] = [];
  for (const m of present) {
    // A later remove or set replaces every earlier value of that name.
    const replaced = (name: string) => m.remove.includes(name) || m.set.some(([n]) => n === name);
    set = set.filter(([n]) => !replaced(n));
    add = add.filter(([n]) => !replaced(n));
    for (const name of m.remove) if (!remove.includes(name)) remove.push(name);
    for (const [n, v] of m.set) {
      const at = set.findIndex(([s]) => s === n);
      if (at >= 0) set[at] = [n, v];
      else set.push([n, v]);
    }
    add.push(...m.add);
  }
  return set.length + add.length + remove.length === 0 ? undefined : { set, add, remove };
}

const latin1 = new TextDecoder('latin1');

/** Header bytes are Latin-1 on the wire; decode them so the string round-trips. */
function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return latin1.decode(value);
  if (value === undefined || value === null) return undefined;
  return String(value);
}


/** True when a flat [name, value, ...] list of headers to set names this one. */
function inFlat(name: string, flat: readonly string[]): boolean {
  for (let i = 0; i < flat.length; i += 2) if (sameName(name, flat[i]!)) return true;
  return false;
}

/** True when the mutation drops this incoming name (removed, or replaced by set). */
function drops(name: string, m: HeaderMutation | undefined, set: readonly string[] | undefined): boolean {
  if (set !== undefined && inFlat(name, set)) return true;
  if (m === undefined) return false;
  for (const r of m.remove) if (sameName(name, r)) return true;
  for (const [s] of m.set) if (sameName(name, s)) return true;
  return false;
}

function keep(out: string[], name: string, value: unknown, m: HeaderMutation | undefined, set: readonly string[] | undefined): void {
  if (drops(name, m, set)) return;
  if (Array.isArray(value)) {
    for (const v of value) {
      const t = text(v);
      if (t !== undefined) out.push(name, t);
    }
    return;
  }
  const t = text(value);
  if (t !== undefined) out.push(name, t);
}

/**
 * undici request headers in: a flat [k, v, k, v] array (strings or
 * Buffers), an iterable of [k, v] pairs (a Headers or a Map), a
 * Record<string, string | string[]>, or null/undefined. Out: a new flat
 * string array; the input is never changed.
 */
export function mutateRequestHeaders(headers: unknown, m: HeaderMutation): string[] {
  return rewriteRequestHeaders(headers, m, undefined);
}

/**
 * The route's mutation, then `set` (a flat [name, value, ...] list the mesh
 * adds per attempt: trace context, the deadline budget, a rewritten Host),
 * which replaces any header of the same name. One copy of the caller's
 * headers however many changes apply; `set` may be extended in place by the
 * caller before this call, never after.
 */
export function rewriteRequestHeaders(headers: unknown, m: HeaderMutation | undefined, set: readonly string[] | undefined): string[] {
  if (m === undefined && set !== undefined && (headers === undefined || headers === null)) return set as string[];
  const out: string[] = [];
  if (Array.isArray(headers)) {
    if (headers.length > 0 && Array.isArray(headers[0])) {
      for (const pair of headers as unknown[][]) {
        const name = text(pair[0]);
        if (name !== undefined) keep(out, name, pair[1], m, set);
      }
    } else {
      for (let i = 0; i + 1 < headers.length; i += 2) {
        const name = text(headers[i]);
        if (name !== undefined) keep(out, name, headers[i + 1], m, set);
      }
    }
  } else if (headers !== null && typeof headers === 'object') {
    if (Symbol.iterator in headers) {
      for (const pair of headers as Iterable<unknown[]>) {
        const name = text(pair[0]);
        if (name !== undefined) keep(out, name, pair[1], m, set);
      }
    } else {
      const record = headers as Record<string, unknown>;
      for (const name in record) keep(out, name, record[name], m, set);
    }
  }
  if (m !== undefined) {
    for (const [n, v] of m.set) if (set === undefined || !inFlat(n, set)) out.push(n, v);
    for (const [n, v] of m.add) if (set === undefined || !inFlat(n, set)) out.push(n, v);
  }
  if (set !== undefined) for (let i = 0; i < set.length; i++) out.push(set[i]!);
  return out;
}

/** undici response headers are a Record<lowercase, string | string[]>; returns a new record. */
export function mutateResponseHeaders(
  headers: Record<string, string | string[] | undefined>,
  m: HeaderMutation,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || drops(name, m, undefined)) continue;
    // Copy arrays: `add` appends to them, and the caller's record must not change.
    out[name] = Array.isArray(value) ? value.slice() : value;
  }
  for (const [n, v] of m.set) {
    const prev = out[n];
    // Two set entries for one name only arise from literal mutations; keep both values.
    out[n] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  for (const [n, v] of m.add) {
    const prev = out[n];
    if (prev === undefined) out[n] = v;
    else if (Array.isArray(prev)) prev.push(v);
    else out[n] = [prev, v];
  }
  return out;
}
