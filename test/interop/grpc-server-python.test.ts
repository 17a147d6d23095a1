/**
 * Debian's python3-grpcio, a gRPC implementation we did not write (C
 * core, BoringSSL), calls the mesh's gRPC server over mTLS with its own
 * client certificate from the mesh's CA: the handler sees its SPIFFE ID;
 * an identity an AuthorizationPolicy does not allow gets PERMISSION_DENIED;
 * without a client certificate (or in plaintext) STRICT refuses it.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { meshContextOf } from '../../src/index.js';
import { GREETER, GreeterService, grpcWorkspace, type Workspace } from '../integration/grpc-server-fixture.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./grpc_server_client.py', import.meta.url));
const SERVER_ID = 'spiffe://cluster.local/ns/shop/sa/greeter';
/** gRPC's C core checks the target name against DNS names (not URIs), so the server's certificate carries one too. */
const SERVER_NAME = 'greeter.shop.svc.cluster.local';
const run = promisify(execFile);

/**
 * The backend's workload certificate, as a cert-manager secret would mount
 * it: the SPIFFE ID and a DNS name, signed by the test CA with openssl.
 */
function mountServerCertificate(caDir: string, into: string): void {
  mkdirSync(into, { recursive: true });
  const at = (f: string) => join(into, f);
  writeFileSync(
    at('ext.cnf'),
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth,clientAuth',
      `subjectAltName=critical,URI:${SERVER_ID},DNS:${SERVER_NAME}`,
    ].join('\n'),
  );
  execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/', '-keyout', at('tls.key'), '-out', at('req.csr')], { stdio: 'ignore' });
  execFileSync(
    'openssl',
    ['x509', '-req', '-in', at('req.csr'), '-CA', join(caDir, 'ca-cert.pem'), '-CAkey', join(caDir, 'ca-key.pem'), '-CAcreateserial', '-days', '1', '-extfile', at('ext.cnf'), '-out', at('tls.crt')],
    { stdio: 'ignore' },
  );
}

describe.skipIf(!existsSync(PYTHON))('python3-grpcio calls the mesh gRPC server', () => {
  let ws: Workspace;
  let port: number;
  let root: string;

  beforeAll(async () => {
    ws = await grpcWorkspace();
    root = join(ws.dir, 'root.pem');
    writeFileSync(root, ws.rootPem);
    mountServerCertificate(join(ws.dir, 'ca'), join(ws.dir, 'greeter-certs'));
    writeFileSync(join(ws.dir, 'greeter-certs', 'ca.crt'), ws.rootPem);
    const mesh = await ws.backend('STRICT', {
      certificates: { provider: 'files', dir: join(ws.dir, 'greeter-certs') },
      policies: [{ name: 'frontend-only', action: 'ALLOW', rules: [{ from: [{ principals: ['cluster.local/ns/shop/sa/frontend'] }] }] }],
    });
    const server = mesh.grpc.server();
    ws.servers.push(server);
    server.addService(GreeterService, {
      hello(call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) {
        const ctx = meshContextOf(call);
        cb(null, { peer: ctx?.peer.spiffeId ?? null, request: call.request, client: call.metadata.get('x-client')[0] ?? null });
      },
    });
    ({ port } = await server.listen(0, '127.0.0.1'));
  });
  afterAll(() => ws?.close());

  async function files(sa: string): Promise<[string, string]> {
    const { key, cert } = await ws.issue(sa);
    const k = join(ws.dir, `${sa}-key.pem`);
    const c = join(ws.dir, `${sa}.pem`);
    writeFileSync(k, key, { mode: 0o600 });
    writeFileSync(c, cert);
    return [k, c];
  }

  async function python(args: string[]): Promise<{ code: string; reply?: unknown; details?: string }> {
    const { stdout } = await run(PYTHON, [SCRIPT, `127.0.0.1:${port}`, `/${GREETER}/Hello`, ...args], {
      timeout: 60_000,
      env: { PATH: process.env.PATH ?? '/usr/bin', GRPC_SERVER_NAME: SERVER_NAME },
    });
    return JSON.parse(stdout.trim().split('\n').at(-1)!) as { code: string };
  }

  test('with its own certificate: the call succeeds and the handler sees its SPIFFE ID', async () => {
    const result = await python([root, ...(await files('frontend'))]);
    expect(result).toEqual({
      code: 'OK',
      reply: { peer: 'spiffe://cluster.local/ns/shop/sa/frontend', request: { from: 'python' }, client: 'python-grpcio' },
    });
  });

  test('an identity the AuthorizationPolicy does not allow gets PERMISSION_DENIED', async () => {
    const result = await python([root, ...(await files('intruder'))]);
    expect(result.code).toBe('PERMISSION_DENIED');
    expect(result.details).toBe('no ALLOW policy matched');
  });

  test('STRICT refuses a client without a certificate, and plaintext', async () => {
    expect((await python([root])).code).toBe('UNAVAILABLE');
    expect((await python(['--plaintext'])).code).toBe('UNAVAILABLE');
  });
});
