/**
 * Load through a rotating mTLS pair: two meshes whose certificates are
 * re-issued every `rotateEveryMs` while `concurrency` callers keep requests
 * going for `durationMs`. The server closes every tenth connection so new
 * handshakes keep happening and must pick up the new certificates.
 */
import { createMesh, type Mesh, peerOf } from '../../src/index.js';
import { CertificateAuthority } from '../../src/security/certs/ca.js';
import { mountCertificates } from './rotating-certs.js';

export interface RotationResult {
  readonly ok: number;
  readonly failed: number;
  readonly errors: string[];
  readonly rotations: number;
  /** Distinct client certificates the server saw. */
  readonly clientSerialsSeen: number;
}

export async function runRotationLoad(opts: { durationMs: number; rotateEveryMs: number; concurrency: number }): Promise<RotationResult> {
  const ca = await CertificateAuthority.createRoot({ trustDomain: 'cluster.local' });
  const serverCerts = await mountCertificates(ca, 'spiffe://cluster.local/ns/default/sa/backend');
  const clientCerts = await mountCertificates(ca, 'spiffe://cluster.local/ns/default/sa/frontend');
  const meshes: Mesh[] = [];
  const seen = new Set<string>();
  let served = 0;
  const server = createMesh({
    env: false,
    config: { mesh: { security: { certificates: { provider: 'files', dir: serverCerts.dir }, mtls: { mode: 'STRICT' } } } },
  });
  meshes.push(server);
  await server.ready();
  const httpServer = server.createServer((req, res) => {
    const socket = req.socket as { getPeerCertificate?: () => { serialNumber?: string } };
    seen.add(socket.getPeerCertificate?.().serialNumber ?? '?');
    if (peerOf(req).principal !== 'cluster.local/ns/default/sa/frontend') res.statusCode = 403;
    if (++served % 10 === 0) res.setHeader('connection', 'close');
    res.end('ok');
  });
  const { port } = await httpServer.listen(0, '127.0.0.1');
  const client = createMesh({
    env: false,
    config: {
      mesh: { security: { certificates: { provider: 'files', dir: clientCerts.dir } } },
      services: { backend: { endpoints: [`127.0.0.1:${port}`], tls: { mode: 'mutual' } } },
    },
  });
  meshes.push(client);
  await client.ready();

  let ok = 0;
  let failed = 0;
  const errors: string[] = [];
  let rotations = 0;
  const stopAt = Date.now() + opts.durationMs;
  const rotator = (async () => {
    // On a fixed beat, so issuing (RSA key generation) does not stretch the interval.
    const start = Date.now();
    for (let k = 1; start + k * opts.rotateEveryMs < stopAt; k++) {
      await new Promise((r) => setTimeout(r, Math.max(0, start + k * opts.rotateEveryMs - Date.now())));
      await Promise.all([serverCerts.rotate(), clientCerts.rotate()]);
      rotations++;
    }
  })();
  await Promise.all(
    Array.from({ length: opts.concurrency }, async () => {
      while (Date.now() < stopAt) {
        try {
          const res = await client.request('http://backend/');
          const body = await res.body.text();
          if (res.statusCode === 200 && body === 'ok') ok++;
          else {
            failed++;
            errors.push(`${res.statusCode} ${body}`);
          }
        } catch (err) {
          failed++;
          errors.push(String((err as Error).message));
        }
      }
    }),
  );
  await rotator;
  await httpServer.close(100);
  await Promise.all(meshes.map((m) => m.destroy()));
  serverCerts.remove();
  clientCerts.remove();
  return { ok, failed, errors: errors.slice(0, 5), rotations, clientSerialsSeen: seen.size };
}
