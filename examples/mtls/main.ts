/**
 * Zero trust between three workloads, each with its own mesh as it would
 * have in its own pod (here all in one process):
 *
 *   - backend (service account "backend"): STRICT mTLS, and one ALLOW
 *     policy, so only the frontend may GET /api/* and everything else is
 *     denied;
 *   - frontend (service account "frontend"): calls the backend over mTLS and
 *     checks that the server really is the backend;
 *   - reports (service account "reports"): a workload of the same mesh with a
 *     valid certificate, but no permission.
 *
 * The applications call plain http://backend/...; the meshes do the TLS.
 * Certificates come from a development CA in a temporary directory, which
 * is removed at the end.
 *
 *   node --import tsx examples/mtls/main.ts
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as plainRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHANNELS, createMesh, isMeshError, type Mesh, type MeshLogger, peerOf } from 'proxyless';

const caDir = mkdtempSync(join(tmpdir(), 'proxyless-mtls-example-'));
// Removed when the process exits, after a failure too.
process.once('exit', () => rmSync(caDir, { recursive: true, force: true }));
// Every workload names the same dev CA directory, so they share one trust domain.
const certificates = { provider: 'dev', dir: caDir } as const;

// The backend's TLS handshake failures are logged at info level; keep the last one to show it.
let lastTlsFailure = '';
const backendLogger: MeshLogger = {
  info: (message, fields) => {
    if (message === 'inbound TLS handshake failed') lastTlsFailure = String(fields?.error);
  },
  warn: (message, fields) => console.error(message, fields),
  error: (message, fields) => console.error(message, fields),
};

// --- backend -----------------------------------------------------------------
const backend = createMesh({
  env: false,
  logger: backendLogger,
  config: {
    mesh: {
      namespace: 'shop',
      labels: { app: 'backend' },
      security: { serviceAccount: 'backend', certificates, mtls: { mode: 'STRICT' } },
    },
    // An Istio AuthorizationPolicy, verbatim. Once an ALLOW policy applies to a
    // workload, a request that no ALLOW rule matches is denied.
    authorizationPolicies: [
      {
        apiVersion: 'security.istio.io/v1',
        kind: 'AuthorizationPolicy',
        metadata: { name: 'frontend-reads-api', namespace: 'shop' },
        spec: {
          selector: { matchLabels: { app: 'backend' } },
          action: 'ALLOW',
          rules: [
            {
              from: [{ source: { principals: ['cluster.local/ns/shop/sa/frontend'] } }],
              to: [{ operation: { methods: ['GET'], paths: ['/api/*'] } }],
            },
          ],
        },
      },
    ],
  },
});
await backend.ready(); // creates the dev CA on first use, then issues the backend's certificate

const server = backend.createServer((req, res) => {
  // The caller's identity, verified during the TLS handshake.
  const peer = peerOf(req);
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ items: ['espresso', 'cortado'], caller: peer.spiffeId, namespace: peer.namespace }));
});
const { port } = await server.listen(0, '127.0.0.1');
const endpoints = [`127.0.0.1:${port}`];

// --- the two callers ------------------------------------------------------------
function caller(serviceAccount: string, services: Record<string, unknown>, outboundTls?: 'mutual'): Mesh {
  return createMesh({
    env: false,
    config: {
      mesh: {
        namespace: 'shop',
        security: { serviceAccount, certificates, ...(outboundTls !== undefined ? { outboundTls } : {}) },
      },
      services: services as never,
    },
  });
}

const frontend = caller('frontend', {
  // mTLS to the backend, and the server must prove it is the backend.
  backend: { endpoints, tls: { mode: 'mutual', subjectAltNames: ['spiffe://cluster.local/ns/shop/sa/backend'] } },
  // The same endpoint under a name that expects another identity: as if DNS
  // or discovery pointed "payments" at the wrong pod.
  payments: { endpoints, tls: { mode: 'mutual', subjectAltNames: ['spiffe://cluster.local/ns/shop/sa/payments'] } },
});
// reports takes mTLS from the mesh-wide default instead of per service.
const reports = caller('reports', { backend: { endpoints } }, 'mutual');
await Promise.all([frontend.ready(), reports.ready()]);

for (const [name, mesh] of [
  ['backend', backend],
  ['frontend', frontend],
  ['reports', reports],
] as const) {
  console.log(`${name.padEnd(8)} is ${mesh.identity?.spiffeId}`);
}

// Denials are published on a diagnostics channel (and counted in proxyless_inbound_denials_total).
const denials: string[] = [];
const onDenied = (msg: unknown) => denials.push((msg as { code: string }).code);
subscribe(CHANNELS.denied, onDenied);

async function call(mesh: Mesh, label: string, method: 'GET' | 'POST', url: string): Promise<void> {
  try {
    const res = await mesh.request(url, { method, ...(method === 'POST' ? { body: '{}' } : {}) });
    const body = (await res.body.text()).trim();
    if (res.statusCode === 200) {
      const seen = JSON.parse(body) as { caller: string; namespace: string };
      console.log(`${label}: ${res.statusCode}, the backend saw ${seen.caller} (namespace ${seen.namespace})`);
    } else {
      console.log(`${label}: ${res.statusCode} ${body}`);
    }
  } catch (err) {
    if (!isMeshError(err)) throw err;
    console.log(`${label}: ${err.code}: ${err.message.replace(/127\.0\.0\.1:\d+/, '127.0.0.1:<port>')}`);
  }
}

await call(frontend, 'frontend GET /api/items', 'GET', 'http://backend/api/items');
await call(frontend, 'frontend POST /api/items', 'POST', 'http://backend/api/items');
await call(reports, 'reports  GET /api/items', 'GET', 'http://backend/api/items');
await call(frontend, 'frontend GET http://payments/api/items', 'GET', 'http://payments/api/items');

// A client outside the mesh: no certificate, no TLS.
const plaintext = await new Promise<string>((resolve) => {
  const req = plainRequest({ host: '127.0.0.1', port, path: '/api/items' }, (res) => {
    res.resume();
    resolve(`answered ${res.statusCode}`);
  });
  req.on('error', () => resolve('refused: the connection was closed without an HTTP response'));
  req.end();
});
console.log(`plaintext GET /api/items: ${plaintext}`);
// OpenSSL's reason, without its error-queue prefix and source location.
const reason = /SSL routines:[^:]*:([^:]+)/.exec(lastTlsFailure)?.[1] ?? lastTlsFailure;
console.log(`  the backend logged: inbound TLS handshake failed (${reason})`);

console.log(`denials published on ${CHANNELS.denied}: ${denials.length} (${[...new Set(denials)].join(', ')})`);

unsubscribe(CHANNELS.denied, onDenied);
await Promise.all([frontend.close(), reports.close()]);
await server.close(1_000);
await backend.close();
