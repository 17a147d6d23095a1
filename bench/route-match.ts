/**
 * Microbenchmark: ns per route match over a table of 1,000 routes, against a
 * linear scan of the same compiled matchers in route order. Target: ≤ 2 µs
 * per match at 1,000 routes.
 *
 * Run: npx tsx bench/route-match.ts   (about 15 s)
 *
 * The routes look like a large API gateway's: exact endpoints, versioned
 * prefixes, regex routes for ids, header canaries and method-specific routes,
 * a few regexes with no literal start, and a catch-all last. Each case
 * matches a small set of requests in rotation; each cell is the median of
 * several timed rounds after a warm-up, so JIT tiering and GC pauses do not
 * land in the number.
 */
import { type RouteConfigInput, routesSchema } from '../src/config/route-schema.js';
import { EntryMatcher } from '../src/routing/route-match.js';
import { compileRouteTable, type RouteRequest } from '../src/routing/route-table.js';
import { markdownTable } from './lib/table.js';

const RESOURCES = ['users', 'orders', 'carts', 'payments', 'invoices', 'products', 'reviews', 'ratings', 'shipments', 'stock'];
const ACTIONS = ['list', 'search', 'export', 'import', 'stats', 'health', 'bulk', 'history'];
const TO_SELF = [{ destination: {} }];

interface Built {
  readonly name: string;
  readonly kind: string;
  readonly team: string;
  readonly resource: string;
  readonly action: string;
}

const built: Built[] = [];

function buildRoutes(): RouteConfigInput[] {
  const out: RouteConfigInput[] = [];
  for (let i = 0; out.length < 995; i++) {
    const resource = RESOURCES[i % RESOURCES.length]!;
    const action = ACTIONS[i % ACTIONS.length]!;
    const team = `team${Math.floor(i / 10)}`;
    const kind = ['exact', 'exact', 'exact', 'prefix', 'prefix', 'regex', 'canary', 'write'][i % 8]!;
    const name = `${kind}-${i}`;
    built.push({ name, kind, team, resource, action });
    if (kind === 'exact') {
      out.push({ name, match: [{ uri: { exact: `/api/${team}/${resource}/${action}` } }], route: TO_SELF });
    } else if (kind === 'prefix') {
      out.push({ name, match: [{ uri: { prefix: `/api/${team}/${resource}/` } }], route: TO_SELF });
    } else if (kind === 'regex') {
      out.push({ name, match: [{ uri: { regex: `/v2/${team}/${resource}/[0-9]+(/items)?` } }], route: TO_SELF });
    } else if (kind === 'canary') {
      out.push({
        name,
        match: [{ uri: { prefix: `/web/${team}/` }, headers: { 'x-canary': { exact: 'true' } } }],
        route: [{ destination: { subset: 'canary' } }],
      });
    } else {
      out.push({
        name,
        match: [{ uri: { prefix: `/web/${team}/${resource}` }, method: { regex: 'POST|PUT|PATCH' } }],
        route: TO_SELF,
      });
    }
  }
  // Regexes with no literal start are candidates for every request.
  for (const ext of ['png', 'jpg', 'css', 'js']) {
    out.push({ name: `static-${ext}`, match: [{ uri: { regex: `.*\\.${ext}` } }], route: TO_SELF });
  }
  out.push({ name: 'catch-all', route: TO_SELF });
  return out;
}

function request(path: string, headers: Record<string, string> = {}, method = 'GET'): RouteRequest {
  return { method, path, authority: 'gateway', header: (name) => headers[name] };
}

const config = routesSchema.parse(buildRoutes());
const table = compileRouteTable('gateway', config);

const first = (kind: string) => built.find((b) => b.kind === kind)!;
const last = (kind: string) => built.findLast((b) => b.kind === kind)!;

interface Case {
  readonly name: string;
  readonly requests: readonly RouteRequest[];
  /** The route each request must land on, so the bench checks itself. */
  readonly expect: readonly string[];
}

function one(name: string, req: RouteRequest, route: string): Case {
  return { name, requests: [req], expect: [route] };
}

const ex0 = first('exact');
const exN = last('exact');
const px0 = first('prefix');
const pxN = last('prefix');
const reN = last('regex');
const caN = last('canary');
const wrN = last('write');
const CASES: Case[] = [
  one(`exact, early (${ex0.name})`, request(`/api/${ex0.team}/${ex0.resource}/${ex0.action}`), ex0.name),
  one(`exact, late (${exN.name})`, request(`/api/${exN.team}/${exN.resource}/${exN.action}?page=2`), exN.name),
  one(`prefix, early (${px0.name})`, request(`/api/${px0.team}/${px0.resource}/42/comments`), px0.name),
  one(`prefix, late (${pxN.name})`, request(`/api/${pxN.team}/${pxN.resource}/7/track?full=1`), pxN.name),
  one(`regex, late (${reN.name})`, request(`/v2/${reN.team}/${reN.resource}/123456/items`), reN.name),
  one(`header canary, late (${caN.name})`, request(`/web/${caN.team}/home`, { 'x-canary': 'true' }), caN.name),
  one(`method, late (${wrN.name})`, request(`/web/${wrN.team}/${wrN.resource}/1`, {}, 'POST'), wrN.name),
  one('regex with no literal start (static-css)', request('/assets/app.css'), 'static-css'),
  {
    name: 'miss → catch-all (3 paths)',
    requests: [request('/healthz'), request('/api/team999/users/list'), request(`/web/${caN.team}/home`)],
    expect: ['catch-all', 'catch-all', 'catch-all'],
  },
];

// The reference: the same compiled matchers, tried one by one in route order.
const linear = config.map((r, i) => ({
  name: table.routes[i]!.name,
  entries: (r.match && r.match.length > 0 ? r.match : [undefined]).map((e) => new EntryMatcher(e)),
}));
function linearMatch(req: RouteRequest): string | undefined {
  for (const r of linear) for (const e of r.entries) if (e.matches(req)) return r.name;
  return undefined;
}

for (const c of CASES) {
  c.requests.forEach((r, i) => {
    const got = table.match(r)?.name;
    const ref = linearMatch(r);
    if (got !== c.expect[i] || ref !== c.expect[i]) {
      throw new Error(`${c.name}: ${r.path} matched ${got} (linear ${ref}), expected ${c.expect[i]}`);
    }
  });
}

let sink = 0;

function timeRound(fn: (r: RouteRequest) => unknown, requests: readonly RouteRequest[], iterations: number): number {
  const n = requests.length;
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) if (fn(requests[i % n]!) !== undefined) sink++;
  return Number(process.hrtime.bigint() - start) / iterations;
}

const ROUNDS = 7;

function nsPerMatch(fn: (r: RouteRequest) => unknown, requests: readonly RouteRequest[], iterations: number): number {
  timeRound(fn, requests, iterations);
  const rounds = Array.from({ length: ROUNDS }, () => timeRound(fn, requests, iterations));
  rounds.sort((a, b) => a - b);
  return rounds[ROUNDS >> 1]!;
}

const indexed = (r: RouteRequest) => table.match(r);
const rows: string[][] = [];
for (const c of CASES) {
  const ns = nsPerMatch(indexed, c.requests, 300_000);
  const ref = nsPerMatch(linearMatch, c.requests, 3_000);
  rows.push([c.name, ns.toFixed(0), ref.toFixed(0), `${(ref / ns).toFixed(1)}×`]);
}
const all = CASES.flatMap((c) => c.requests);
const mixed = nsPerMatch(indexed, all, 300_000);
const mixedRef = nsPerMatch(linearMatch, all, 3_000);
rows.push(['mixed (all of the above, in turn)', mixed.toFixed(0), mixedRef.toFixed(0), `${(mixedRef / mixed).toFixed(1)}×`]);

const start = process.hrtime.bigint();
for (let i = 0; i < 5; i++) compileRouteTable('gateway', config);
const buildMs = Number(process.hrtime.bigint() - start) / 5 / 1e6;

console.log(`Node ${process.version}, ${config.length.toLocaleString('en-US')} routes, ${ROUNDS} rounds, median\n`);
console.log(
  markdownTable(
    ['case', 'ns/match', 'linear scan ns/match', 'speed-up'],
    rows,
    ['left', 'right', 'right', 'right'],
  ),
);
console.log(`\ncompiling the table: ${buildMs.toFixed(2)} ms`);
if (sink === 42) console.log(''); // keeps the matches observable
