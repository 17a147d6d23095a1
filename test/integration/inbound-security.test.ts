/**
 * The zero-trust walkthrough end to end: STRICT mTLS, an ALLOW policy that
 * only lets the frontend GET the API (so everything else is denied), and
 * JWT authentication whose claims feed authorization. Policies are Istio
 * YAML in the backend's config file; callers are real meshes over mTLS.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { createMesh, type Mesh, type MeshServer, peerOf, requestAuthOf } from '../../src/index.js';


let dir: string;
let signer: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
let jwks: string;
const meshes: Mesh[] = [];
const servers: MeshServer[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'proxyless-zt-'));
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  signer = privateKey;
  jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }] });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close(100)));
  await Promise.all(meshes.splice(0).map((m) => m.destroy()));
});

function token(claims: Record<string, unknown>, expiresIn = '5m'): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
    .setIssuer('https://issuer.example')
    .setSubject('alice')
    .setAudience('backend')
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(signer);
}

function backendConfig(): string {
  return `
mesh:
  namespace: shop
  security:
    serviceAccount: backend
    certificates: { provider: dev, dir: ${JSON.stringify(join(dir, 'ca'))} }
    mtls: { mode: STRICT }
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: { name: jwt, namespace: shop }
spec:
  jwtRules:
    - issuer: https://issuer.example
      audiences: [backend]
      jwks: '${jwks}'
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: frontend-reads-api, namespace: shop }
spec:
  action: ALLOW
  rules:
    - from: [{ source: { principals: [cluster.local/ns/shop/sa/frontend] } }]
      to: [{ operation: { methods: [GET], paths: [/api/*] } }]
    - from: [{ source: { requestPrincipals: [https://issuer.example/*] } }]
      to: [{ operation: { paths: [/admin/*] } }]
      when: [{ key: 'request.auth.claims[role]', values: [admin] }]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: no-deletes, namespace: shop }
spec:
  action: DENY
  rules: [{ to: [{ operation: { methods: [DELETE] } }] }]
`;
}

async function startBackend(): Promise<number> {
  const file = join(dir, 'backend.yaml');
  writeFileSync(file, backendConfig());
  const m = createMesh({ env: false, configFile: file, watchConfigFile: false });
  meshes.push(m);
  await m.ready();
  const server = m.createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({
        peer: peerOf(req).principal ?? null,
        user: requestAuthOf(req)?.requestPrincipal ?? null,
        authorization: req.headers.authorization ?? null,
      }),
    );
  });
  servers.push(server);
  return (await server.listen(0, '127.0.0.1')).port;
}

async function caller(serviceAccount: string, port: number): Promise<Mesh> {
  const m = createMesh({
    env: false,
    config: {
      mesh: { namespace: 'shop', security: { serviceAccount, certificates: { provider: 'dev', dir: join(dir, 'ca') } } },
      services: { backend: { endpoints: [`127.0.0.1:${port}`], tls: { mode: 'mutual' } } },
    },
  });
  meshes.push(m);
  await m.ready();
  return m;
}

async function call(m: Mesh, method: string, path: string, headers: Record<string, string> = {}) {
  const res = await m.request(`http://backend${path}`, { method: method as 'GET', headers });
  return { status: res.statusCode, body: await res.body.text() };
}

test('default deny: the frontend may GET the API; other callers, other methods and paths are refused with the reason', async () => {
  const port = await startBackend();
  const frontend = await caller('frontend', port);
  const other = await caller('reports', port);

  const ok = await call(frontend, 'GET', '/api/items');
  expect(ok.status).toBe(200);
  expect(JSON.parse(ok.body).peer).toBe('cluster.local/ns/shop/sa/frontend');

  expect(await call(other, 'GET', '/api/items')).toEqual({ status: 403, body: 'no ALLOW policy matched\n' });
  expect((await call(frontend, 'POST', '/api/items')).status).toBe(403);
  expect((await call(frontend, 'GET', '/internal')).status).toBe(403);
  // DENY is evaluated before ALLOW.
  const del = await call(frontend, 'DELETE', '/api/items');
  expect(del.status).toBe(403);
  expect(del.body).toContain('shop/no-deletes');
});

test('JWT: a valid token with the admin claim opens /admin; a bad token is 401; no token falls to authorization (403)', async () => {
  const port = await startBackend();
  const other = await caller('reports', port);

  const admin = await token({ role: 'admin' });
  const ok = await call(other, 'GET', '/admin/users', { authorization: `Bearer ${admin}` });
  expect(ok.status).toBe(200);
  const body = JSON.parse(ok.body);
  expect(body.user).toBe('https://issuer.example/alice');
  // The token is not forwarded to the application (forwardOriginalToken is false).
  expect(body.authorization).toBeNull();

  const user = await token({ role: 'viewer' });
  expect((await call(other, 'GET', '/admin/users', { authorization: `Bearer ${user}` })).status).toBe(403);

  const expired = await token({ role: 'admin' }, '-10m');
  const refused = await call(other, 'GET', '/admin/users', { authorization: `Bearer ${expired}` });
  expect(refused.status).toBe(401);
  expect(refused.body).not.toContain(expired);

  expect((await call(other, 'GET', '/admin/users', { authorization: 'Bearer not.a.jwt' })).status).toBe(401);
  expect((await call(other, 'GET', '/admin/users')).status).toBe(403);
});

test('an Istio kind the config file does not support is named in the error', () => {
  const file = join(dir, 'bad.yaml');
  writeFileSync(file, 'services: {}\n---\napiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata: { name: g }\n');
  expect(() => createMesh({ env: false, configFile: file, watchConfigFile: false })).toThrow(
    /document 2: kind EnvoyFilter is not supported in a config file/,
  );
});

test('a DENY on /admin* cannot be walked around with encoded, doubled or dotted paths; destination.ip conditions apply', async () => {
  const m = createMesh({
    env: false,
    config: {
      mesh: { namespace: 'shop' },
      authorizationPolicies: [
        { name: 'no-admin', action: 'DENY', rules: [{ to: [{ paths: ['/admin*'] }] }] },
        { name: 'not-on-loopback', action: 'DENY', rules: [{ to: [{ paths: ['/local-only'] }], when: [{ key: 'destination.ip', values: ['127.0.0.1'] }] }] },
      ],
    },
  });
  meshes.push(m);
  const server = m.createServer((req, res) => res.end(`saw ${req.url}`));
  servers.push(server);
  const { port } = await server.listen(0, '127.0.0.1');
  const { Client } = await import('undici');
  // A Client sends the path exactly as written (a URL would resolve the dot segments first).
  const raw = new Client(`http://127.0.0.1:${port}`);
  const send = (path: string) => raw.request({ method: 'GET', path });
  const status = async (path: string) => {
    const res = await send(path);
    await res.body.dump();
    return res.statusCode;
  };
  for (const path of ['/admin', '/%61dmin', '//admin', '/./admin', '/x/../admin', '/admin/users']) expect(await status(path)).toBe(403);
  expect(await status('/local-only')).toBe(403);
  const ok = await send('//public/./x/../page');
  expect(await ok.body.text()).toBe('saw /public/page');
  await raw.close();
});

test('a RequestAuthentication without a namespace applies to the workload in its own namespace', async () => {
  const m = createMesh({
    env: false,
    config: {
      mesh: { namespace: 'shop' },
      requestAuthentications: [{ name: 'jwt', jwtRules: [{ issuer: 'https://issuer.example', jwks }] }],
    },
  });
  meshes.push(m);
  const server = m.createServer((_req, res) => res.end('ok'));
  servers.push(server);
  const { port } = await server.listen(0, '127.0.0.1');
  const { request } = await import('undici');
  const res = await request(`http://127.0.0.1:${port}/`, { headers: { authorization: 'Bearer not.a.jwt' } });
  await res.body.dump();
  expect(res.statusCode).toBe(401);
});

test('headers that JWT rules write claims into are removed from requests without a token, so they cannot be forged', async () => {
  const m = createMesh({
    env: false,
    config: {
      mesh: { namespace: 'shop' },
      requestAuthentications: [
        { name: 'jwt', jwtRules: [{ issuer: 'https://issuer.example', jwks, outputClaimToHeaders: [{ header: 'x-user-role', claim: 'role' }] }] },
      ],
    },
  });
  meshes.push(m);
  const server = m.createServer((req, res) => res.end(String(req.headers['x-user-role'] ?? 'none')));
  servers.push(server);
  const { port } = await server.listen(0, '127.0.0.1');
  const { request } = await import('undici');
  const forged = await request(`http://127.0.0.1:${port}/`, { headers: { 'x-user-role': 'admin' } });
  expect(await forged.body.text()).toBe('none');
  const real = await request(`http://127.0.0.1:${port}/`, {
    headers: { 'x-user-role': 'admin', authorization: `Bearer ${await token({ role: 'viewer' })}` },
  });
  expect(await real.body.text()).toBe('viewer');
});
