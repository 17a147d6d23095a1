/**
 * The indexed table against a naive reference: for randomized route sets
 * (overlapping exact, prefix and regex uris, folded case, methods, headers,
 * query parameters, several entries per route) and randomized requests, both
 * must pick the same route. The reference is written from the semantics,
 * independently of the compiled matchers: a plain loop in route order.
 */
import { describe, expect, it } from 'vitest';
import type { RouteConfig, RouteConfigInput } from '../../../src/config/route-schema.js';
import { compileRouteTable } from '../../../src/routing/route-table.js';
import { req, routes, seeded } from './support.js';

type Rng = () => number;

const SEGMENTS = ['a', 'b', 'api', 'API', 'v1', 'users', 'Users', '42', 'x-y'];
const METHODS = ['GET', 'POST', 'PUT', 'DELETE'];

function choose<T>(random: Rng, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

function randomPath(random: Rng, minDepth = 0): string {
  const depth = minDepth + Math.floor(random() * (4 - minDepth));
  let path = '';
  for (let i = 0; i < depth; i++) path += `/${choose(random, SEGMENTS)}`;
  if (path === '' || random() < 0.2) path += '/';
  return path;
}

function randomRegex(random: Rng): string {
  const base = randomPath(random, 2).replace(/-/g, '\\-');
  switch (Math.floor(random() * 8)) {
    case 6:
      // Optional last characters: the literal start must stop before them.
      return `${base}/?`;
    case 7:
      return `${base.slice(0, -1)}${base.slice(-1)}*`;
    case 0:
      return `${base}[0-9]+`;
    case 1:
      return `${base}.*`;
    case 2:
      return `(${base}|/b/.*)`;
    case 3:
      return `${base}(v1|v2)?/?`;
    case 4:
      return `^${base}[a-z]*$`;
    default:
      return `/[a-z]+${base}`;
  }
}

function randomEntry(random: Rng): NonNullable<RouteConfigInput['match']>[number] {
  const entry: NonNullable<RouteConfigInput['match']>[number] = {};
  // Short prefixes and bare entries match nearly everything, so they are
  // kept rare: the interesting cases are deep in the table.
  const uriKind = random();
  if (uriKind < 0.35) entry.uri = { prefix: randomPath(random, random() < 0.1 ? 1 : 2) };
  else if (uriKind < 0.65) entry.uri = { exact: randomPath(random) };
  else if (uriKind < 0.92) entry.uri = { regex: randomRegex(random) };
  if (entry.uri !== undefined && random() < 0.25) entry.ignoreUriCase = true;
  if (random() < 0.2 || entry.uri === undefined) entry.method = choose(random, METHODS);
  if (entry.uri === undefined) {
    // Entries without a uri are filed by an exact header when they have one
    // (header-index.ts): several names and values, a second condition, and
    // entries whose only header condition cannot be indexed.
    const name = choose(random, ['x-v', 'x-w']);
    const kind = random();
    entry.headers =
      kind < 0.6
        ? { [name]: { exact: choose(random, ['1', '2', '3']) } }
        : kind < 0.8
          ? { [name]: { exact: choose(random, ['1', '2']) }, 'x-v2': choose(random, [{ exact: '1' }, { absent: true }]) }
          : { [name]: choose(random, [{ prefix: '1' }, { present: true }]) };
  }
  else if (random() < 0.2) entry.headers = { 'x-v': choose(random, [{ exact: '1' }, { present: true }, { absent: true }]) };
  if (random() < 0.15) entry.queryParams = { q: choose(random, [{ exact: '1' }, { prefix: '2' }, { absent: true }]) };
  return entry;
}

/** `count` routes with one or two entries each, then (with `catchAll`) one that matches everything. */
function randomRoutes(random: Rng, count: number, catchAll: boolean): RouteConfig[] {
  const input: RouteConfigInput[] = [];
  for (let i = 0; i < count; i++) {
    const entries = 1 + Math.floor(random() * 2);
    input.push({ match: Array.from({ length: entries }, () => randomEntry(random)), route: [{ destination: {} }] });
  }
  if (catchAll) input.push({ route: [{ destination: {} }] });
  return routes(...input);
}

// ── the reference ─────────────────────────────────────────────────────────

type Match = NonNullable<RouteConfig['match']>[number];
type Str = { exact?: string; prefix?: string; regex?: string; present?: true; absent?: true };

function strMatches(m: Str, value: string | undefined): boolean {
  if (m.present) return value !== undefined;
  if (m.absent) return value === undefined;
  if (value === undefined) return false;
  if (m.exact !== undefined) return value === m.exact;
  if (m.prefix !== undefined) return value.startsWith(m.prefix);
  return new RegExp(`^(?:${m.regex})$`).test(value);
}

function entryMatches(e: Match, method: string, path: string, headers: Record<string, string>): boolean {
  const [rawPath = '', query] = path.split('?');
  if (e.uri !== undefined) {
    const fold = e.ignoreUriCase === true;
    const p = fold ? rawPath.toLowerCase() : rawPath;
    if (e.uri.exact !== undefined && p !== (fold ? e.uri.exact.toLowerCase() : e.uri.exact)) return false;
    if (e.uri.prefix !== undefined && !p.startsWith(fold ? e.uri.prefix.toLowerCase() : e.uri.prefix)) return false;
    if (e.uri.regex !== undefined && !new RegExp(`^(?:${e.uri.regex})$`, fold ? 'i' : '').test(rawPath)) return false;
  }
  if (e.method !== undefined && !strMatches(e.method, method)) return false;
  for (const [name, m] of Object.entries(e.headers ?? {})) if (!strMatches(m, headers[name])) return false;
  const params = new URLSearchParams(query ?? '');
  for (const [name, m] of Object.entries(e.queryParams ?? {})) {
    if (!strMatches(m, params.get(name) ?? undefined)) return false;
  }
  return true;
}

function reference(config: readonly RouteConfig[], method: string, path: string, headers: Record<string, string>) {
  const i = config.findIndex((r) =>
    r.match === undefined || r.match.length === 0 ? true : r.match.some((e) => entryMatches(e, method, path, headers)),
  );
  return i < 0 ? undefined : i;
}

// ──────────────────────────────────────────────────────────────────────────

describe('route table vs the naive reference', () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])('agrees on 300 random routes × 1,000 requests (seed %i)', (seed) => {
    const random = seeded(seed);
    const config = randomRoutes(random, 300, true);
    const table = compileRouteTable('s', config);
    let hits = 0;
    let deepest = -1;
    for (let i = 0; i < 1000; i++) {
      let path = randomPath(random);
      if (random() < 0.3) path += `?${choose(random, ['q=1', 'q=22', 'a=1&q=1', 'q', 'b=2'])}`;
      const method = choose(random, METHODS);
      const headers: Record<string, string> = {};
      if (random() < 0.5) headers['x-v'] = choose(random, ['1', '2', '3']);
      if (random() < 0.4) headers['x-w'] = choose(random, ['1', '2', '3']);
      if (random() < 0.3) headers['x-v2'] = '1';
      const expected = reference(config, method, path, headers);
      const got = table.match(req(path, headers, method))?.index;
      if (got !== expected) {
        throw new Error(`${method} ${path} ${JSON.stringify(headers)}: table ${got}, reference ${expected}`);
      }
      if (expected !== undefined) {
        hits++;
        deepest = Math.max(deepest, expected);
      }
    }
    // Enough requests must match, deep enough in the table, for the comparison to mean something.
    expect(hits).toBeGreaterThan(100);
    expect(deepest).toBeGreaterThan(30);
  });

  it('agrees when no route is a catch-all, so misses happen too', () => {
    const random = seeded(99);
    const config = randomRoutes(random, 60, false);
    const table = compileRouteTable('s', config);
    let misses = 0;
    for (let i = 0; i < 2000; i++) {
      const path = randomPath(random);
      const expected = reference(config, 'GET', path, {});
      expect(table.match(req(path))?.index).toBe(expected);
      if (expected === undefined) misses++;
    }
    expect(misses).toBeGreaterThan(0);
  });
});
