/**
 * The policy index is a filter: for any policies and request, the indexed
 * lookup must find exactly what a full scan finds. Random policy sets (paths
 * exact, prefix, suffix, template; principals exact and prefix; several
 * rules, several entries) against random requests, from a fixed seed.
 */
import { describe, expect, it } from 'vitest';
import { CheckContext } from '../../../../src/security/authz/check-context.js';
import { compileRule } from '../../../../src/security/authz/compile-rule.js';
import type { AuthzOperation, AuthzRule, AuthzSource } from '../../../../src/security/authz/model.js';
import { CompiledPolicy, FOUND_MAX, PolicyList } from '../../../../src/security/authz/policy-list.js';
import { request } from './support.js';

/** mulberry32: small, seedable, good enough to pick test inputs. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEGMENTS = ['api', 'v1', 'v2', 'users', 'orders', '42', 'items', 'admin'];

function paths(r: () => number): string[] {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  const base = () => `/${Array.from({ length: 1 + Math.floor(r() * 3) }, () => pick(SEGMENTS)).join('/')}`;
  return Array.from({ length: 1 + Math.floor(r() * 2) }, () => {
    switch (Math.floor(r() * 5)) {
      case 0:
        return `${base()}*`;
      case 1:
        return `*/${pick(SEGMENTS)}`;
      case 2:
        return `${base()}/{*}`;
      case 3:
        return `${base()}/{**}`;
      default:
        return base();
    }
  });
}

function principals(r: () => number): string[] {
  const sa = () => `cluster.local/ns/ns${Math.floor(r() * 3)}/sa/sa${Math.floor(r() * 3)}`;
  return [r() < 0.3 ? `${sa().slice(0, -1)}*` : sa()];
}

function rule(r: () => number): AuthzRule {
  const to = (): AuthzOperation => (r() < 0.5 ? { paths: paths(r) } : { paths: paths(r), methods: ['GET'] });
  const from = (): AuthzSource => (r() < 0.7 ? { principals: principals(r) } : { notPrincipals: principals(r) });
  return {
    to: r() < 0.8 ? Array.from({ length: 1 + Math.floor(r() * 2) }, to) : undefined,
    from: r() < 0.6 ? Array.from({ length: 1 + Math.floor(r() * 2) }, from) : undefined,
  };
}

function policies(r: () => number, n: number): CompiledPolicy[] {
  return Array.from({ length: n }, (_, i) => {
    const rules = r() < 0.05 ? [] : Array.from({ length: 1 + Math.floor(r() * 2) }, () => rule(r));
    return new CompiledPolicy(`ns/p${i}`, rules.map((x) => compileRule(x, 'ns')));
  });
}

describe('policy index', () => {
  it('loses no policy when the mark counter wraps', () => {
    const rules = (path: string) => [compileRule({ to: [{ paths: [path] }] }, 'ns')];
    const list = Array.from({ length: 10 }, (_, i) => new CompiledPolicy(`ns/p${i}`, rules(`/p${i}`)));
    const index = new PolicyList(list);
    const ctx = new CheckContext(list.length, FOUND_MAX);
    ctx.reset(request({ path: '/p7' }));
    expect(index.firstMatch(ctx)?.id).toBe('ns/p7');
    ctx.wrapEpochSoon();
    ctx.reset(request({ path: '/p7' }));
    expect(index.firstMatch(ctx)?.id).toBe('ns/p7');
  });

  it('finds what a full scan finds', () => {
    const r = rng(20250101);
    for (let round = 0; round < 40; round++) {
      const list = policies(r, 8 + Math.floor(r() * 40));
      const indexed = new PolicyList(list);
      // A tiny `found` forces the fallback that reads the marks instead.
      const ctx = new CheckContext(list.length, round % 2 === 0 ? FOUND_MAX : 1);
      for (let q = 0; q < 50; q++) {
        const principal = r() < 0.15 ? undefined : principals(r)[0]!.replace('*', '1');
        const path = paths(r)[0]!.replace(/\{\*\*?\}|\*/g, 'x') + (r() < 0.3 ? '?q=/api' : '');
        ctx.reset(request({ principal, path, method: r() < 0.5 ? 'GET' : 'POST' }));
        // Now and then the mark counter wraps mid-round; no policy may be lost to a stale mark.
        if (q % 17 === 16) ctx.wrapEpochSoon();
        const expected = list.filter((p) => p.matches(ctx)).map((p) => p.id);
        expect(indexed.firstMatch(ctx)?.id, `${principal} ${path}`).toBe(expected[0]);
        expect(indexed.allMatches(ctx) ?? [], `${principal} ${path}`).toEqual(expected);
      }
    }
  });
});
