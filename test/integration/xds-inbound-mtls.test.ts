/**
 * STRICT mTLS and a principal policy over xDS for a proxyless server: the
 * control plane's inbound listener says STRICT (PeerAuthentication) and
 * allows only the frontend's SPIFFE ID (AuthorizationPolicy); the server's
 * certificate comes from its bootstrap's file_watcher provider, as in an
 * Istio pod. Real TLS, real undici callers with their own certificates.
 */

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { ControlPlane } from '../../src/control/control-plane.js';
import { createMesh, type Mesh, type MeshServer } from '../../src/index.js';
import { CertificateAuthority } from '../../src/security/certs/ca.js';
import { type MountedCertificates, mountCertificates } from '../helpers/rotating-certs.js';

const quiet = { info() {}, warn() {}, error() {} };
const dir = mkdtempSync(join(tmpdir(), 'xds-inbound-mtls-'));
let ca: CertificateAuthority;
let mount: MountedCertificates;
let cp: ControlPlane;
let mesh: Mesh;
let server: MeshServer;
let port = 0;
const agents: Agent[] = [];

beforeAll(async () => {
  ca = await CertificateAuthority.createRoot({ trustDomain: 'cluster.local' });
  mount = await mountCertificates(ca, 'spiffe://cluster.local/ns/shop/sa/reviews');
  const file = join(dir, 'mesh.yaml');
  writeFileSync(
    file,
    `services: {}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: strict, namespace: shop }
spec: { mtls: { mode: STRICT } }
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: frontend-only, namespace: shop }
spec:
  rules: [{ from: [{ source: { principals: ["cluster.local/ns/shop/sa/frontend"] } }] }]
`,
  );
  cp = new ControlPlane({ configFile: file, host: '127.0.0.1', port: 0, logger: quiet });
  const xdsPort = await cp.start();
  mesh = createMesh({
    env: false,
    logger: quiet,
    xds: {
      bootstrap: JSON.stringify({
        xds_servers: [{ server_uri: `127.0.0.1:${xdsPort}`, channel_creds: [{ type: 'insecure' }] }],
        node: { id: 'reviews-mtls', metadata: { NAMESPACE: 'shop', LABELS: { app: 'reviews' } } },
        certificate_providers: {
          default: {
            plugin_name: 'file_watcher',
            config: {
              certificate_file: join(mount.dir, 'cert-chain.pem'),
              private_key_file: join(mount.dir, 'key.pem'),
              ca_certificate_file: join(mount.dir, 'root-cert.pem'),
            },
          },
        },
      }),
      inbound: '127.0.0.1:8080',
      backoff: { baseMs: 50, maxMs: 200 },
    },
  });
  const deadline = Date.now() + 20_000;
  while (mesh.config.current.config.mesh.security?.mtls?.mode !== 'STRICT') {
    if (Date.now() > deadline) throw new Error('the inbound listener never arrived');
    await new Promise((r) => setTimeout(r, 25));
  }
  await mesh.ready();
  server = mesh.createServer((_req, res) => res.end('ok'));
  port = (await server.listen(0, '127.0.0.1')).port;
}, 60_000);

afterAll(async () => {
  await Promise.all(agents.map((a) => a.close()));
  await server?.close(100);
  await mesh?.destroy();
  await cp?.close();
  mount?.remove();
  rmSync(dir, { recursive: true, force: true });
});

async function as(account: string): Promise<number> {
  const cert = await ca.issue({ spiffeId: `spiffe://cluster.local/ns/shop/sa/${account}` });
  // The server presents a SPIFFE ID, no host name: trust the CA, skip the name check.
  const agent = new Agent({ connect: { ca: cert.trustBundlePems.join(''), cert: cert.chainPem, key: cert.keyPem, checkServerIdentity: () => undefined } });
  agents.push(agent);
  const res = await request(`https://127.0.0.1:${port}/`, { dispatcher: agent });
  await res.body.dump();
  return res.statusCode;
}

test('STRICT from the control plane: the frontend passes, another workload is denied, plaintext is refused', async () => {
  expect(await as('frontend')).toBe(200);
  expect(await as('batch')).toBe(403);
  await expect(request(`http://127.0.0.1:${port}/`)).rejects.toThrow();
});
