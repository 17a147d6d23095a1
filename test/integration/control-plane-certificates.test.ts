/**
 * Provider `control-plane`: two meshes get their certificates from a real
 * control plane's CA (bootstrap tokens from a token file), talk STRICT mTLS,
 * renew by certificate at the configured fraction of a short lifetime with no
 * failed request, and a refused token is a clear typed error while the
 * meshes keep serving on the certificates they have.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caAuthenticator } from '../../src/control/ca-auth.js';
import { readTokenFile } from '../../src/control/ca-tokens.js';
import { ControlPlane } from '../../src/control/control-plane.js';
import { createMesh, isMeshError, type Mesh, type MeshConfigInput, type MeshServer, peerOf } from '../../src/index.js';
import { CertificateAuthority } from '../../src/security/certs/ca.js';
import { ControlPlaneCertificateProvider } from '../../src/security/certs/control-plane-provider.js';
import { stderrLogger } from '../../src/telemetry/logger.js';
import { quietLogger } from '../helpers/admin-fixture.js';

const TOKEN = 'shop-bootstrap-token-0123456789';
const NEW_TOKEN = 'another-bootstrap-token-9876543210';

describe('provider control-plane', () => {
  const dir = mkdtempSync(join(tmpdir(), 'proxyless-cp-certs-'));
  let cp: ControlPlane;
  let port: number;
  let address: string;
  const meshes: Mesh[] = [];
  let server: MeshServer;
  let backend: Mesh;
  let frontend: Mesh;
  const logs = quietLogger();
  const clientSerials = new Set<string>();
  let served = 0;

  const startControlPlane = async (tokens: string, listenPort: number) => {
    writeFileSync(join(dir, 'tokens.yaml'), `tokens:\n  - token: ${tokens}\n    identities: ["spiffe://cluster.local/ns/shop/sa/*"]\n`);
    const ca = await CertificateAuthority.createRoot({ trustDomain: 'cluster.local' });
    const authenticate = caAuthenticator(ca, readTokenFile(join(dir, 'tokens.yaml')));
    const plane = new ControlPlane({
      configFile: join(dir, 'mesh.yaml'),
      host: '127.0.0.1',
      port: listenPort,
      logger: stderrLogger('silent'),
      ca: { authority: ca, authenticate },
    });
    return { plane, port: await plane.start() };
  };

  const mesh = (serviceAccount: string, extra: Record<string, unknown> = {}, security: Record<string, unknown> = {}): Mesh => {
    const m = createMesh({
      env: false,
      logger: logs,
      config: {
        ...extra,
        mesh: {
          namespace: 'shop',
          security: {
            serviceAccount,
            // A 6 s lifetime, backdated 60 s by the CA: renewal at 95 % of it falls ~3 s after issue.
            certificates: { provider: 'control-plane', address, tokenFile: join(dir, 'token'), ttl: '6s', renewAt: 0.95 },
            ...security,
          },
        },
      } as MeshConfigInput,
    });
    meshes.push(m);
    return m;
  };

  beforeAll(async () => {
    writeFileSync(join(dir, 'mesh.yaml'), 'services: {}\n');
    writeFileSync(join(dir, 'token'), `${TOKEN}\n`);
    ({ plane: cp, port } = await startControlPlane(TOKEN, 0));
    address = `127.0.0.1:${port}`;
    backend = mesh('backend', {}, { mtls: { mode: 'STRICT' } });
    await backend.ready();
    server = backend.createServer((req, res) => {
      // The caller's certificate serial: a new one shows the frontend renewed and new connections use it.
      const socket = req.socket as { getPeerCertificate?: () => { serialNumber?: string } };
      clientSerials.add(socket.getPeerCertificate?.().serialNumber ?? '?');
      // Closing every tenth connection makes new handshakes, which must pick up renewed certificates.
      if (++served % 10 === 0) res.setHeader('connection', 'close');
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ principal: peerOf(req).principal ?? null }));
    });
    const { port: backendPort } = await server.listen(0, '127.0.0.1');
    frontend = mesh('frontend', { services: { backend: { endpoints: [`127.0.0.1:${backendPort}`], tls: { mode: 'mutual' } } } });
    await frontend.ready();
  }, 30_000);

  afterAll(async () => {
    await server?.close(100);
    await Promise.all(meshes.map((m) => m.destroy()));
    await cp.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('issues both meshes certificates from the control plane and they talk STRICT mTLS', async () => {
    expect(backend.identity?.spiffeId).toBe('spiffe://cluster.local/ns/shop/sa/backend');
    const res = await frontend.request('http://backend/who');
    expect(res.statusCode).toBe(200);
    expect(await res.body.json()).toEqual({ principal: 'cluster.local/ns/shop/sa/frontend' });
  });

  it('renews at the configured fraction of the lifetime with no failed request', async () => {
    clientSerials.clear();
    let ok = 0;
    const failures: string[] = [];
    const until = Date.now() + 8_000;
    const worker = async () => {
      while (Date.now() < until) {
        try {
          const res = await frontend.request('http://backend/who');
          await res.body.text();
          if (res.statusCode === 200) ok++;
          else failures.push(`status ${res.statusCode}`);
        } catch (err) {
          failures.push(String(err));
        }
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(20);
    // The frontend's certificate renewed (about every 3 s) and new connections presented the new ones.
    expect(clientSerials.size).toBeGreaterThanOrEqual(2);
  }, 30_000);

  it('refuses an unknown token with a typed error naming the reason', async () => {
    const provider = new ControlPlaneCertificateProvider({
      spiffeId: 'spiffe://cluster.local/ns/shop/sa/intruder',
      address,
      token: 'not-a-known-token-at-all',
      retryDelayMs: 60_000,
      logger: quietLogger(),
    });
    try {
      const err = await provider.rotateNow().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isMeshError(err) && err.code).toBe('MESH_CERTIFICATE_REFUSED');
      expect((err as Error).message).toContain('bootstrap token is not known');
      expect(provider.current()).toBeUndefined();
    } finally {
      await provider.close();
    }
  });

  it('keeps serving on the certificates it has when the CA refuses both the certificate and the token', async () => {
    // The control plane comes back with another CA and other tokens: renewals are refused.
    await cp.close();
    ({ plane: cp } = await startControlPlane(NEW_TOKEN, port));
    const warningsBefore = logs.warnings.length;
    const failures = () => logs.warnings.slice(warningsBefore).filter((w) => w.includes('certificate renewal failed'));
    const refusals = () => failures().filter((w) => w.includes('bootstrap token is not known'));
    // Renewal is due within ~3 s of the last one; the certificates in force stay valid ~3 s beyond that.
    // Every request must succeed, before and after the first refusal; how many land before it is
    // timing, so only the ones after count. A renewal tried while the control plane restarts finds
    // nobody listening and is retried a second later: the refusal is the retry's answer.
    let afterRefusal = 0;
    while (afterRefusal < 20) {
      const res = await frontend.request('http://backend/who');
      await res.body.text();
      expect(res.statusCode).toBe(200);
      if (refusals().length > 0) afterRefusal++;
      else await new Promise((r) => setTimeout(r, 20));
    }
    for (const f of failures()) expect(f).toMatch(/bootstrap token is not known|cannot reach the control-plane CA/);
  }, 30_000);
});
