/**
 * Inbound policy from the cluster: the control plane in Kubernetes mode
 * (against the fake API server, driven by the real kubectl) serves the
 * AuthorizationPolicies that select a workload in its inbound listener; our
 * mesh's inbound guard starts denying once one is applied, allows again
 * once it is deleted, and a bad one is rejected by name.
 */
import { request } from 'undici';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { stringify } from 'yaml';
import { ControlPlane } from '../../src/control/control-plane.js';
import { KubernetesInput } from '../../src/control/kubernetes/kubernetes-input.js';
import { createMesh, type Mesh, type MeshServer } from '../../src/index.js';
import type { MeshLogger } from '../../src/telemetry/logger.js';
import { FakeKubeApiServer, kubectl, writeKubeconfig } from '../helpers/kube-apiserver/index.js';

let api: FakeKubeApiServer;
let kc: ReturnType<typeof writeKubeconfig>;
let cp: ControlPlane;
let mesh: Mesh;
let server: MeshServer;
let port = 0;
const errors: string[] = [];
const logger: MeshLogger = {
  info() {},
  warn() {},
  error(message, fields) {
    errors.push(`${message} ${JSON.stringify(fields ?? {})}`);
  },
};

const peerAuthentication = {
  apiVersion: 'security.istio.io/v1',
  kind: 'PeerAuthentication',
  metadata: { name: 'plaintext', namespace: 'shop' },
  spec: { mtls: { mode: 'DISABLE' } },
};

function denyAdmin(paths: unknown = ['/admin*']): string {
  return stringify({
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: { name: 'deny-admin', namespace: 'shop' },
    spec: { selector: { matchLabels: { app: 'reviews' } }, action: 'DENY', rules: [{ to: [{ operation: { paths } }] }] },
  });
}

async function run(args: string[], stdin?: string): Promise<void> {
  const r = await kubectl(kc.path, args, stdin);
  expect(r.code, r.stderr).toBe(0);
}

async function status(path: string): Promise<number> {
  const res = await request(`http://127.0.0.1:${port}${path}`);
  await res.body.dump();
  return res.statusCode;
}

async function until(check: () => Promise<boolean> | boolean, what: string): Promise<void> {
  const end = Date.now() + 30_000;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  api = await FakeKubeApiServer.start();
  kc = writeKubeconfig(api);
  await run(['apply', '-f', '-'], stringify(peerAuthentication));
  cp = new ControlPlane({ input: new KubernetesInput({ kubeconfig: kc.path, logger, debounceMs: 20 }), host: '127.0.0.1', port: 0, logger });
  const xdsPort = await cp.start();
  mesh = createMesh({
    env: false,
    logger: { info() {}, warn() {}, error() {} },
    xds: {
      bootstrap: JSON.stringify({
        xds_servers: [{ server_uri: `127.0.0.1:${xdsPort}`, channel_creds: [{ type: 'insecure' }] }],
        node: { id: 'reviews-k8s', metadata: { NAMESPACE: 'shop', LABELS: { app: 'reviews', version: 'v1' } } },
      }),
      inbound: '10.0.0.7:8080',
      backoff: { baseMs: 50, maxMs: 200 },
    },
  });
  server = mesh.createServer((_req, res) => res.end('ok'));
  port = (await server.listen(0, '127.0.0.1')).port;
  await until(() => mesh.config.current.config.mesh.security?.mtls?.mode === 'DISABLE', 'the inbound listener');
}, 60_000);

afterAll(async () => {
  await server?.close(100);
  await mesh?.destroy();
  await cp?.close();
  await api?.close();
  kc?.dispose();
});

test('kubectl apply of an AuthorizationPolicy starts the denial; kubectl delete lifts it', async () => {
  expect(await status('/admin/users')).toBe(200);
  await run(['apply', '-f', '-'], denyAdmin());
  await until(async () => (await status('/admin/users')) === 403, 'the policy to be enforced');
  expect(await status('/public')).toBe(200);
  await run(['delete', 'authorizationpolicy', 'deny-admin', '-n', 'shop']);
  await until(async () => (await status('/admin/users')) === 200, 'the policy to be lifted');
}, 60_000);

test('a bad AuthorizationPolicy is rejected by name and field while the last good one keeps serving', async () => {
  await run(['apply', '-f', '-'], denyAdmin());
  await until(async () => (await status('/admin/x')) === 403, 'the policy to be enforced');
  await run(['apply', '-f', '-'], denyAdmin(['/a*b']));
  await until(() => errors.some((e) => e.includes('AuthorizationPolicy shop/deny-admin')), 'the rejection');
  expect(cp.status().lastRejectedConfig?.message).toContain('AuthorizationPolicy shop/deny-admin');
  expect(cp.status().lastRejectedConfig?.message).toContain('paths');
  expect(await status('/admin/x')).toBe(403);
  await run(['delete', 'authorizationpolicy', 'deny-admin', '-n', 'shop']);
  await until(async () => (await status('/admin/x')) === 200, 'the policy to be lifted');
}, 60_000);
