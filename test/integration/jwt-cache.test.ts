/**
 * `mesh.security.jwtCache` through createMesh and a real inbound server: a
 * token that verified keeps passing after its key leaves the issuer's JWKS
 * (it is not checked again) for `maxAge`, and `maxTokens: 0` checks every
 * token. The JWKS is a real server on port 0; wall-clock and monotonic
 * time are virtual, so the 30 s refresh limit and maxAge pass at once.
 */
import { request } from 'undici';
import { afterEach, beforeAll, beforeEach, expect, test, vi } from 'vitest';
import { createMesh, type Mesh, type MeshServer, requestAuthOf } from '../../src/index.js';
import { ISSUER, type JwksServer, jwksText, makeKey, sign, startJwksServer, type TestKey } from '../unit/security/jwt/helpers.js';

let k1: TestKey;
let k2: TestKey;
let jwksServer: JwksServer;
const meshes: Mesh[] = [];
const servers: MeshServer[] = [];

beforeAll(async () => {
  [k1, k2] = await Promise.all([makeKey('RS256', 'k1'), makeKey('ES256', 'k2')]);
});

beforeEach(async () => {
  vi.useFakeTimers({ toFake: ['Date', 'performance'] });
  vi.setSystemTime(new Date('2026-11-30T12:00:00Z'));
  jwksServer = await startJwksServer(jwksText(k1));
});

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close(100)));
  await Promise.all(meshes.splice(0).map((m) => m.destroy()));
  await jwksServer.close();
  vi.useRealTimers();
});

function config(jwtCache: Record<string, unknown> | undefined, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    mesh: { namespace: 'shop', ...(jwtCache === undefined ? {} : { security: { jwtCache } }) },
    requestAuthentications: [{ name: 'jwt', jwtRules: [{ issuer: ISSUER, jwksUri: jwksServer.url }] }],
    ...extra,
  };
}

async function serve(jwtCache: Record<string, unknown> | undefined): Promise<(token: string) => Promise<string>> {
  const mesh = createMesh({ env: false, config: config(jwtCache) });
  meshes.push(mesh);
  const server = mesh.createServer((req, res) => {
    const claims = requestAuthOf(req)?.claims;
    // A remembered token's claims go to every request that repeats it: they must be read-only, nested values too.
    if (claims !== undefined && !(Object.isFrozen(claims) && Object.isFrozen(claims.roles))) res.statusCode = 500;
    res.end(requestAuthOf(req)?.requestPrincipal ?? 'anonymous');
  });
  servers.push(server);
  const { port } = await server.listen(0, '127.0.0.1');
  return async (token) => {
    const res = await request(`http://127.0.0.1:${port}/`, { headers: { authorization: `Bearer ${token}` } });
    return `${res.statusCode} ${await res.body.text()}`;
  };
}

/** The issuer drops k1; a k2 token, 30 s after the first fetch, makes the mesh fetch the new set. */
async function withdrawK1(call: (token: string) => Promise<string>): Promise<void> {
  jwksServer.body = jwksText(k2);
  vi.advanceTimersByTime(30_000);
  expect(await call(await sign(k2, { sub: 'rotated' }))).toBe(`200 ${ISSUER}/rotated`);
}

test('a verified token is not checked again within maxAge, so it outlives its withdrawn key until then', async () => {
  const call = await serve({ maxAge: '1m' });
  const token = await sign(k1, { claims: { roles: ['reader'] } });
  expect(await call(token)).toBe(`200 ${ISSUER}/alice`);
  await withdrawK1(call);
  expect(await call(token)).toBe(`200 ${ISSUER}/alice`);
  expect(await call(await sign(k1, { sub: 'mallory' }))).toBe('401 JWT is signed with an unknown key\n');
  vi.advanceTimersByTime(30_001);
  expect(await call(token)).toBe('401 JWT is signed with an unknown key\n');
});

test('a config update that leaves the JWT settings alone keeps the remembered tokens; one that changes them starts afresh', async () => {
  const call = await serve({ maxAge: '1m' });
  const mesh = meshes[0]!;
  const token = await sign(k1);
  expect(await call(token)).toBe(`200 ${ISSUER}/alice`);
  await withdrawK1(call);
  // An unrelated update (a new service), as every xDS push or file reload is.
  mesh.config.setLayer('options', config({ maxAge: '1m' }, { services: { reviews: { endpoints: ['127.0.0.1:9'] } } }), 'options');
  expect(await call(token)).toBe(`200 ${ISSUER}/alice`);
  // New JWT settings compile a new authenticator, with nothing remembered.
  mesh.config.setLayer('options', config({ maxAge: '2m' }), 'options');
  expect(await call(token)).toBe('401 JWT is signed with an unknown key\n');
});

test('maxTokens: 0 checks every token', async () => {
  const call = await serve({ maxTokens: 0 });
  const token = await sign(k1);
  expect(await call(token)).toBe(`200 ${ISSUER}/alice`);
  await withdrawK1(call);
  expect(await call(token)).toBe('401 JWT is signed with an unknown key\n');
});
