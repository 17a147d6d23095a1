/**
 * An OpenTelemetry Context that sets a value in constant time: each
 * setValue adds one link (key, value, the context it extends) instead of
 * copying every entry into a new Map, as the api's own contexts do.
 *
 * Why: a traced request derives a context three or four times (the caller's
 * span context extracted, the server span set, each call's client span
 * set), and each of the api's copies is a Map built from an iterator, about
 * 1,100 instructions. A link is one small object.
 *
 * getValue walks the links to the first that holds the key, then asks the
 * context the chain started from. Chains are as long as the setValue calls
 * that led to them, a handful in a request; past MAX_DEPTH links a
 * context folds its chain into the api's kind, so a program that keeps
 * deriving contexts in a loop never walks far.
 *
 * The mesh starts a chain (LinkedContext.from) where it derives contexts on
 * a request's path; whatever is derived from one (the application's own
 * context.active().setValue too) stays a chain. Unlike the api's contexts,
 * whose methods are bound per instance, these are prototype methods: call
 * them on the context (`ctx.getValue(key)`), not detached from it.
 */
import type { Context } from '@opentelemetry/api';

/** A value that hides the key's value further down the chain: what deleteValue sets. */
const DELETED: unique symbol = Symbol('proxyless deleted context value');
/** The key of a chain's first link, which holds nothing of its own. */
const NO_KEY: unique symbol = Symbol('proxyless chain start');
const MAX_DEPTH = 32;

export class LinkedContext implements Context {
  // Plain properties, not #private ones: defining a private field is a keyed store V8's
  // mid-tier compiler does not inline, ~100 instructions a link.
  /** @internal */ readonly base: Context;
  /** @internal */ readonly next: LinkedContext | undefined;
  /** @internal */ readonly key: symbol;
  /** @internal */ readonly value: unknown;
  /** @internal */ readonly depth: number;
  /** @internal This chain folded, once a context this deep is derived from (see #fold). */
  folded: LinkedContext | undefined;

  private constructor(base: Context, next: LinkedContext | undefined, key: symbol, value: unknown, depth: number) {
    this.base = base;
    this.next = next;
    this.key = key;
    this.value = value;
    this.depth = depth;
    this.folded = undefined;
  }

  /** A chain's start over `ctx` (or `ctx` itself when it is one already). */
  static from(ctx: Context): LinkedContext {
    return ctx instanceof LinkedContext ? ctx : new LinkedContext(ctx, undefined, NO_KEY, undefined, 0);
  }

  getValue(key: symbol): unknown {
    let c: LinkedContext | undefined = this;
    while (c !== undefined) {
      if (c.key === key) {
        const v = c.value;
        return v === DELETED ? undefined : v;
      }
      c = c.next;
    }
    return this.base.getValue(key);
  }

  setValue(key: symbol, value: unknown): Context {
    if (this.depth >= MAX_DEPTH) return this.#fold().setValue(key, value);
    return new LinkedContext(this.base, this, key, value, this.depth + 1);
  }

  deleteValue(key: symbol): Context {
    if (this.depth >= MAX_DEPTH) return this.#fold().deleteValue(key);
    return new LinkedContext(this.base, this, key, DELETED, this.depth + 1);
  }

  /**
   * A short chain that reads as this one: the links applied, oldest first,
   * to the context the chain started from (a context of the api's kind),
   * under a new chain start. Kept, so every context derived from this one
   * shares one fold.
   */
  #fold(): LinkedContext {
    if (this.folded !== undefined) return this.folded;
    const links: LinkedContext[] = [];
    for (let c: LinkedContext | undefined = this; c !== undefined; c = c.next) links.push(c);
    let ctx = this.base;
    for (let i = links.length - 1; i >= 0; i--) {
      const link = links[i]!;
      if (link.key === NO_KEY) continue;
      ctx = link.value === DELETED ? ctx.deleteValue(link.key) : ctx.setValue(link.key, link.value);
    }
    this.folded = new LinkedContext(ctx, undefined, NO_KEY, undefined, 0);
    return this.folded;
  }
}
