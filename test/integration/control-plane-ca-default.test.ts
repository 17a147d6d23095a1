/**
 * Where provider `control-plane` sends its CSR, against a real control plane
 * (xDS and CA on one port, port 0): with no `address` and no
 * MESH_CA_ADDRESS, the mesh's xDS server, also when that server is named in
 * code (`createMesh({ xds: { bootstrap } })`) rather than in the
 * environment; and a config `address` wins over MESH_CA_ADDRESS, as
 * docs/env.md says of these process settings.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { caAuthenticator } from '../../src/control/ca-auth.js';
import { ControlPlane } from '../../src/control/control-plane.js';
import { createMesh, type Mesh, type MeshConfigInput } from '../../src/index.js';
import { CertificateAuthority } from '../../src/security/certs/ca.js';

const TOKEN = 'shop-bootstrap-token-0123456789';
const quiet = { info() {}, warn() {}, error() {} };

describe('provider control-plane: the CA address', () => {
  const dir = mkdtempSync(join(tmpdir(), 'proxyless-ca-default-'));
  let cp: ControlPlane;
  let port: number;
  const meshes: Mesh[] = [];

  beforeAll(async () => {
    writeFileSync(join(dir, 'mesh.yaml'), 'services:\n  reviews:\n    port: 9080\n    endpoints: [127.0.0.1:9]\n');
    const ca = await CertificateAuthority.createRoot({ trustDomain: 'cluster.local' });
    const authenticate = caAuthenticator(ca, [{ token: TOKEN, identities: ['spiffe://cluster.local/ns/shop/sa/*'] }]);
    cp = new ControlPlane({ configFile: join(dir, 'mesh.yaml'), host: '127.0.0.1', port: 0, logger: quiet, ca: { authority: ca, authenticate } });
    port = await cp.start();
  });

  afterEach(async () => {
    await Promise.all(meshes.splice(0).map((m) => m.destroy()));
  });

  afterAll(async () => {
    await cp.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const certificates = (extra: Record<string, unknown> = {}): MeshConfigInput =>
    ({ mesh: { namespace: 'shop', security: { serviceAccount: 'cart', certificates: { provider: 'control-plane', token: TOKEN, ...extra } } } }) as MeshConfigInput;

  it('defaults to the xDS server named by createMesh({ xds: { bootstrap } })', async () => {
    const mesh = createMesh({
      env: false,
      logger: quiet,
      config: certificates(),
      xds: {
        bootstrap: JSON.stringify({ xds_servers: [{ server_uri: `127.0.0.1:${port}`, channel_creds: [{ type: 'insecure' }] }] }),
        listeners: ['reviews:9080'],
      },
    });
    meshes.push(mesh);
    await mesh.ready({ signal: AbortSignal.timeout(15_000) });
    expect(mesh.identity?.spiffeId).toBe('spiffe://cluster.local/ns/shop/sa/cart');
    expect(mesh.xdsStatus()?.server).toBe(`127.0.0.1:${port}`);
  }, 20_000);

  it('a config address wins over MESH_CA_ADDRESS', async () => {
    const mesh = createMesh({
      // Nothing listens on port 1: the certificate arrives only if the config's address is the one used.
      env: { MESH_CA_ADDRESS: '127.0.0.1:1' },
      logger: quiet,
      config: certificates({ address: `127.0.0.1:${port}` }),
    });
    meshes.push(mesh);
    await mesh.ready({ signal: AbortSignal.timeout(15_000) });
    expect(mesh.identity?.spiffeId).toBe('spiffe://cluster.local/ns/shop/sa/cart');
  }, 20_000);
});
