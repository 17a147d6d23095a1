/**
 * Microbenchmark: ns per Authorizer.check() with 100 policies that all apply
 * to the workload (the worst case: selectors that miss are dropped at
 * compile time and cost nothing). Target: ≤ 2 µs per check.
 *
 * Run: npm run bench:authz   (about 10 s)
 *
 * The policies look like a busy namespace's: 20 DENY (admin paths outside
 * the ops namespace, backup files, debug headers, payments without a JWT,
 * blocked client ranges), 75 ALLOW (one per calling service: principals,
 * read and write operations with prefix, suffix and template paths, half with
 * a tenant header or a groups claim) and 5 AUDIT. Each cell is the median of
 * several timed rounds after a warm-up, so JIT tiering and GC pauses do not
 * land in the number. Wall time (hrtime) and CPU time (cpuUsage) are both
 * reported: on a busy machine only the CPU column says what a check costs.
 */
import { availableParallelism, loadavg } from 'node:os';
import type { AuthzRequest } from '../src/security/authz/attributes.js';
import { compileAuthorization } from '../src/security/authz/compile.js';
import { parseAuthorizationPolicies } from '../src/security/authz/parse.js';
import { markdownTable } from './lib/table.js';

const NS = 'shop';
const DENY = 20;
const ALLOW = 75;
const AUDIT = 5;

function resource(apiVersion: string, name: string, spec: Record<string, unknown>) {
  return { apiVersion, kind: 'AuthorizationPolicy', metadata: { name, namespace: NS }, spec };
}

function denyPolicy(i: number) {
  const rules = [
    { from: [{ source: { notNamespaces: ['ops'] } }], to: [{ operation: { paths: [`/admin/area${i}/*`] } }] },
    { to: [{ operation: { paths: [`*.bak${i}`, `/internal/area${i}/{**}`] } }] },
    { when: [{ key: `request.headers[x-debug-${i}]`, values: ['*'] }] },
    { from: [{ source: { notRequestPrincipals: ['*'] } }], to: [{ operation: { paths: [`/api/v1/payments${i}*`] } }] },
    { from: [{ source: { remoteIpBlocks: [`198.51.${i}.0/24`, `2001:db8:${i.toString(16)}::/48`] } }] },
  ][i % 5];
  return resource('security.istio.io/v1', `deny-${i}`, { action: 'DENY', rules: [rules] });
}

function allowPolicy(i: number) {
  const caller = `cluster.local/ns/team${i % 15}/sa/svc${i}`;
  const when =
    i % 4 === 0
      ? [{ key: 'request.headers[x-tenant]', values: [`tenant-${i}`, 'tenant-shared'] }]
      : i % 4 === 1
        ? [{ key: 'request.auth.claims[groups]', values: [`group-${i}`, 'admins'] }]
        : undefined;
  return resource('security.istio.io/v1beta1', `allow-${i}`, {
    action: 'ALLOW',
    selector: i % 3 === 0 ? { matchLabels: { app: 'api' } } : undefined,
    rules: [
      {
        from: [{ source: { principals: [caller, `cluster.local/ns/team${i % 15}/sa/svc${i}-canary*`] } }],
        to: [
          { operation: { methods: ['GET', 'HEAD'], paths: [`/api/v1/res${i}`, `/api/v1/res${i}/*`] } },
          { operation: { methods: ['POST', 'PUT'], paths: [`/api/v1/res${i}/{*}/items`], ports: ['8080'] } },
        ],
        ...(when ? { when } : {}),
      },
    ],
  });
}

function auditPolicy(i: number) {
  return resource('security.istio.io/v1', `audit-${i}`, {
    action: 'AUDIT',
    rules: [{ to: [{ operation: { methods: ['DELETE'], paths: [`/api/v1/res${i}/*`] } }] }],
  });
}

const raw = [
  ...Array.from({ length: DENY }, (_, i) => denyPolicy(i)),
  ...Array.from({ length: ALLOW }, (_, i) => allowPolicy(i)),
  ...Array.from({ length: AUDIT }, (_, i) => auditPolicy(i)),
];
const workload = { namespace: NS, labels: { app: 'api', version: 'v3' } };

let start = process.hrtime.bigint();
const policies = parseAuthorizationPolicies(raw);
const parseMs = Number(process.hrtime.bigint() - start) / 1e6;
start = process.hrtime.bigint();
const authz = compileAuthorization(policies, workload);
const compileMs = Number(process.hrtime.bigint() - start) / 1e6;
if (authz.policies.length !== 100) throw new Error(`expected 100 policies in effect, got ${authz.policies.length}`);

/** One object shape for every request, as an adapter builds them. */
function request(r: Partial<AuthzRequest> & { headers?: Record<string, string> }): AuthzRequest {
  const headers = r.headers ?? {};
  return {
    principal: r.principal,
    requestPrincipal: r.requestPrincipal,
    claims: r.claims,
    sourceIp: '10.12.0.7',
    remoteIp: r.remoteIp ?? '203.0.113.50',
    destinationIp: undefined,
    sni: undefined,
    method: r.method ?? 'GET',
    path: r.path ?? '/',
    host: 'api.shop.svc.cluster.local:8080',
    port: 8080,
    header: (name) => headers[name],
  };
}

const LAST = ALLOW - 1; // 74: i % 4 === 2, so no `when`; 72 has a header condition
interface Case {
  readonly name: string;
  readonly req: AuthzRequest;
  readonly expect: string;
}
const CASES: Case[] = [
  {
    name: `allowed, matched late (allow-${LAST} of ${ALLOW}, after ${DENY} DENY)`,
    req: request({ principal: `cluster.local/ns/team${LAST % 15}/sa/svc${LAST}`, path: `/api/v1/res${LAST}/42?expand=1` }),
    expect: `allowed by policy ${NS}/allow-${LAST}`,
  },
  {
    name: 'allowed late, with a header condition (allow-72)',
    req: request({ principal: 'cluster.local/ns/team12/sa/svc72', method: 'POST', path: '/api/v1/res72/9/items', headers: { 'x-tenant': 'tenant-shared' } }),
    expect: `allowed by policy ${NS}/allow-72`,
  },
  {
    name: `denied by the last DENY (remoteIpBlocks, deny-${DENY - 1})`,
    req: request({ principal: 'cluster.local/ns/team3/sa/svc3', remoteIp: `2001:db8:${(DENY - 1).toString(16)}::9` }),
    expect: `denied by policy ${NS}/deny-${DENY - 1}`,
  },
  {
    name: 'matches nothing (known caller, unknown path)',
    req: request({ principal: 'cluster.local/ns/team3/sa/svc3', path: '/api/v2/unknown/1', requestPrincipal: 'iss/sub', claims: { groups: ['x'] } }),
    expect: 'no ALLOW policy matched',
  },
  {
    name: 'matches nothing (plaintext peer)',
    req: request({ path: `/api/v1/res${LAST}` }),
    expect: 'no ALLOW policy matched',
  },
];

for (const c of CASES) {
  const got = authz.check(c.req).reason;
  if (got !== c.expect) throw new Error(`${c.name}: got "${got}", expected "${c.expect}"`);
}

let sink = 0;

/**
 * One timed round: wall time from process.hrtime.bigint() and CPU time from
 * process.cpuUsage(), both per check. On a shared machine the wall figure
 * includes time the process spent descheduled; the CPU figure does not.
 */
function timeRound(req: AuthzRequest, iterations: number): [wall: number, cpu: number] {
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) if (authz.check(req).allowed) sink++;
  const wall = Number(process.hrtime.bigint() - t0) / iterations;
  const cpu = process.cpuUsage(cpu0);
  return [wall, ((cpu.user + cpu.system) * 1000) / iterations];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

const WARMUP = 200_000;
const ITERATIONS = 300_000;
const ROUNDS = 7;
const rows: string[][] = [];
for (const c of CASES) {
  timeRound(c.req, WARMUP);
  const rounds = Array.from({ length: ROUNDS }, () => timeRound(c.req, ITERATIONS));
  const wall = rounds.map((r) => r[0]);
  const cpu = rounds.map((r) => r[1]);
  rows.push([c.name, median(wall).toFixed(0), Math.min(...wall).toFixed(0), median(cpu).toFixed(0)]);
}

console.log(
  `Node ${process.version}; ${policies.length} policies (${DENY} DENY, ${ALLOW} ALLOW, ${AUDIT} AUDIT); ` +
    `${ITERATIONS.toLocaleString('en-US')} checks × ${ROUNDS} rounds after ${WARMUP.toLocaleString('en-US')} warm-up; median\n`,
);
console.log(
  markdownTable(['case', 'wall ns/check', 'wall min', 'CPU ns/check'], rows, ['left', 'right', 'right', 'right']),
);
console.log(`\nload average when done: ${loadavg().map((l) => l.toFixed(1)).join(', ')} on ${availableParallelism()} CPUs`);
console.log(`\nparse + validate: ${parseMs.toFixed(1)} ms; compile: ${compileMs.toFixed(2)} ms`);
if (sink === 42) console.log(''); // keeps the results observable
