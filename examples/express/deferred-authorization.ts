/**
 * Authorization after routing, in a plain Express app:
 * `meshExpress(mesh, { deferAuthorization: true })` admits every request
 * (load shedding, span, deadline, metrics) without checking it, and each
 * route runs the mesh's JWT authentication and authorization itself with
 * `authorizeRequest(req)`. So a path no route serves gets Express's 404
 * rather than a policy's 403, as under the Nest guard.
 *
 *   npx tsx examples/express/deferred-authorization.ts
 */
import { subscribe } from 'node:diagnostics_channel';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { authorizeRequest, CHANNELS, createMesh, meshExpress, meshExpressErrors } from 'proxyless';

// An issuer's key pair, so the example can sign its own tokens.
const { privateKey, publicKey } = await generateKeyPair('ES256');
const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }] });
const token = await new SignJWT({})
  .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
  .setIssuer('https://issuer.example')
  .setSubject('alice')
  .setAudience('orders')
  .setExpirationTime('5m')
  .sign(privateKey);

const mesh = createMesh({
  config: {
    mesh: { namespace: 'shop', serviceName: 'orders' },
    requestAuthentications: [{ name: 'jwt', jwtRules: [{ issuer: 'https://issuer.example', audiences: ['orders'], jwks }] }],
    // One ALLOW policy, so everything else is denied: only signed-in users may read orders.
    authorizationPolicies: [
      { name: 'signed-in-users', rules: [{ from: [{ requestPrincipals: ['https://issuer.example/*'] }], to: [{ methods: ['GET'], paths: ['/orders/*'] }] }] },
    ],
  },
});
const denials: string[] = [];
subscribe(CHANNELS.denied, (msg) => denials.push((msg as { code: string }).code));

const app = express();
app.use(meshExpress(mesh, { deferAuthorization: true }));
app.get('/orders/:id', async (req, res) => {
  // Nothing protected before this line. A refusal rejects, and Express 5
  // hands the rejection to meshExpressErrors(), which answers 401 or 403.
  await authorizeRequest(req);
  res.json({ id: req.params.id, user: req.mesh?.requestPrincipal });
});
app.use(meshExpressErrors());

const server = app.listen(0, '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const calls: [path: string, who: string, authorization: string | undefined][] = [
  ['/orders/7', "alice's token", `Bearer ${token}`],
  ['/orders/7', 'no token', undefined],
  ['/orders/7', 'forged token', 'Bearer not.a.jwt'],
  ['/nope', 'no token', undefined],
];
for (const [path, who, authorization] of calls) {
  const res = await fetch(`${base}${path}`, authorization === undefined ? {} : { headers: { authorization } });
  const body = res.status === 401 || res.status === 404 ? '' : (await res.text()).trim();
  console.log(`GET ${path} (${who}) -> ${res.status} ${body}`.trimEnd());
}
console.log(`denials published on proxyless:denied: ${denials.join(', ')}`);

await mesh.close();
console.log(`drained: listening=${server.listening}`);
