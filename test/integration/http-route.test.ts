/**
 * Gateway API HTTPRoutes in a mesh file, end to end: real HTTP servers
 * behind a mesh that reads the routes from YAML, checking where requests
 * land and with which path, in the Gateway API's own terms (whole-segment
 * prefixes, precedence over written order, prefix rewrites, consumer
 * routes that only their namespace's clients take).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createMesh, type Mesh } from '../../src/index.js';
import { type EchoServer, startEcho } from '../helpers/echo-server.js';

let dir: string;
let v1: EchoServer;
let v2: EchoServer;
let login: EchoServer;
const meshes: Mesh[] = [];
const quiet = { info() {}, warn() {}, error() {} };

function config(namespace: string): string {
  return `
mesh: { namespace: ${namespace} }
services:
  reviews: { namespace: shop, port: 9080, endpoints: ["${v1.address}"] }
  reviews-v2: { namespace: shop, port: 9080, endpoints: ["${v2.address}"] }
  login: { namespace: shop, port: 9080, endpoints: ["${login.address}"] }
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: reviews, namespace: shop }
spec:
  parentRefs: [{ group: "", kind: Service, name: reviews, port: 9080 }]
  rules:
    - matches: [{ path: { type: PathPrefix, value: /api } }]
      filters: [{ type: URLRewrite, urlRewrite: { path: { type: ReplacePrefixMatch, replacePrefixMatch: /v2 } } }]
      backendRefs: [{ name: reviews-v2, port: 9080 }]
    - matches: [{ path: { type: Exact, value: /api/login } }]
      backendRefs: [{ name: login, port: 9080 }]
    - backendRefs: [{ name: reviews, port: 9080 }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: frontend-canary, namespace: frontend }
spec:
  parentRefs: [{ kind: Service, name: reviews, namespace: shop }]
  rules:
    - matches: [{ headers: [{ name: x-canary, value: "1" }] }]
      backendRefs: [{ name: reviews-v2, port: 9080 }]
`;
}

function meshIn(namespace: string): Mesh {
  const file = join(dir, `${namespace}.yaml`);
  writeFileSync(file, config(namespace));
  const m = createMesh({ env: false, configFile: file, logger: quiet });
  meshes.push(m);
  return m;
}

/** Which server answered, and the path it saw. */
async function landed(m: Mesh, path: string, headers: Record<string, string> = {}): Promise<string> {
  const res = await m.request(`http://reviews.shop:9080${path}`, { headers });
  const body = (await res.body.json()) as { name: string; path: string };
  return `${body.name} ${body.path}`;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'http-route-'));
  [v1, v2, login] = await Promise.all([startEcho('v1'), startEcho('v2'), startEcho('login')]);
});

afterAll(async () => {
  await Promise.all(meshes.map((m) => m.destroy()));
  await Promise.all([v1, v2, login].map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });
});

test('PathPrefix matches whole segments and rewrites the prefix; an Exact match wins though written later', async () => {
  const m = meshIn('shop');
  await m.ready();
  expect(await landed(m, '/api')).toBe('v2 /v2');
  expect(await landed(m, '/api/items?page=2')).toBe('v2 /v2/items?page=2');
  expect(await landed(m, '/api/')).toBe('v2 /v2/');
  // `/apix` is not under `/api`: the catch-all rule.
  expect(await landed(m, '/apix')).toBe('v1 /apix');
  expect(await landed(m, '/api/login')).toBe('login /api/login');
  // The frontend namespace's consumer route is not this client's.
  expect(await landed(m, '/x', { 'x-canary': '1' })).toBe('v1 /x');
});

test("a consumer route in the client's own namespace comes first for that client", async () => {
  const m = meshIn('frontend');
  await m.ready();
  expect(await landed(m, '/x', { 'x-canary': '1' })).toBe('v2 /x');
  expect(await landed(m, '/x')).toBe('v1 /x');
  // The producer's routes still apply under it.
  expect(await landed(m, '/api/login')).toBe('login /api/login');
});
