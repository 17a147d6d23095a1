/**
 * What the framework tests share: a backend mesh with STRICT mTLS (dev CA),
 * JWT authentication and a DENY policy, a caller mesh with its own
 * certificate, and a signer for tokens. Real TLS, real undici, port 0.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { expect } from 'vitest';
import { createMesh, type Mesh } from '../../src/index.js';

export interface Fixture {
  readonly dir: string;
  readonly meshes: Mesh[];
  backend(): Promise<Mesh>;
  caller(port: number): Promise<Mesh>;
  token(claims: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

export async function frameworkFixture(): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'proxyless-fw-'));
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }] });
  const meshes: Mesh[] = [];
  const ca = { provider: 'dev' as const, dir: join(dir, 'ca') };
  return {
    dir,
    meshes,
    async backend() {
      const m = createMesh({
        env: false,
        config: {
          mesh: { namespace: 'shop', serviceName: 'users', security: { serviceAccount: 'users', certificates: ca, mtls: { mode: 'STRICT' } } },
          requestAuthentications: [{ name: 'jwt', jwtRules: [{ issuer: 'https://issuer.example', audiences: ['users'], jwks }] }],
          authorizationPolicies: [{ name: 'no-secrets', action: 'DENY', rules: [{ to: [{ paths: ['/secret*'] }] }] }],
        },
      });
      meshes.push(m);
      await m.ready();
      return m;
    },
    async caller(port: number) {
      const m = createMesh({
        env: false,
        config: {
          mesh: { namespace: 'shop', security: { serviceAccount: 'frontend', certificates: ca } },
          services: { users: { endpoints: [`127.0.0.1:${port}`], tls: { mode: 'mutual' } } },
        },
      });
      meshes.push(m);
      await m.ready();
      return m;
    },
    token(claims) {
      return new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setIssuer('https://issuer.example')
        .setSubject('alice')
        .setAudience('users')
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(privateKey);
    },
    async close() {
      await Promise.all(meshes.splice(0).map((m) => m.destroy()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function call(m: Mesh, path: string, headers: Record<string, string> = {}) {
  const res = await m.request(`http://users${path}`, { headers });
  return { status: res.statusCode, headers: res.headers, body: await res.body.text() };
}

/** Every adapter's handler at /users/:id answers with the caller the mesh verified: the mTLS peer and the JWT's claims. */
export async function expectIdentityAndClaims(fx: Fixture, caller: Mesh): Promise<void> {
  const token = await fx.token({ role: 'admin' });
  const res = await call(caller, '/users/42', { authorization: `Bearer ${token}` });
  expect(res.status).toBe(200);
  expect(JSON.parse(res.body)).toEqual({
    id: '42',
    peer: 'cluster.local/ns/shop/sa/frontend',
    user: 'https://issuer.example/alice',
    role: 'admin',
  });
}

/** /secret is denied by the shop/no-secrets policy: 403 naming it. */
export async function expectDenied(caller: Mesh): Promise<void> {
  const denied = await call(caller, '/secret');
  expect(denied.status).toBe(403);
  expect(denied.body).toContain('shop/no-secrets');
}

/** The `proxyless_inbound_requests_total` lines of a scrape. */
export async function routeLines(m: Mesh): Promise<string[]> {
  const text = await m.metricsRegistry!.metrics();
  return text.split('\n').filter((l) => l.startsWith('proxyless_inbound_requests_total{'));
}
