/**
 * Inbound policy over xDS, end to end with real servers on port 0: our
 * control plane serves a server's inbound listener (RBAC from the
 * AuthorizationPolicies in its file), our xDS client subscribes to it and
 * the mesh's inbound guard enforces it; a file edit lifts the denial; a bad
 * RBAC config from a control plane is NACKed naming the listener and field
 * while the last good policy stays in force.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { afterAll, afterEach, expect, test } from 'vitest';
import { ControlPlane } from '../../src/control/control-plane.js';
import { packAny, TYPE_URL } from '../../src/discovery/xds/envoy-protos.js';
import { RBAC_TYPE_URL, ROUTER_TYPE_URL } from '../../src/discovery/xds/inbound-vocabulary.js';
import { createMesh, type Mesh, type MeshServer } from '../../src/index.js';
import { TestAdsServer } from '../helpers/ads-server.js';

const quiet = { info() {}, warn() {}, error() {} };
const dir = mkdtempSync(path.join(tmpdir(), 'xds-inbound-'));
const INBOUND = 'xds.istio.io/grpc/lds/inbound/127.0.0.1:8080';
let mesh: Mesh | undefined;
let server: MeshServer | undefined;
const planes: ControlPlane[] = [];
let ads: TestAdsServer | undefined;

afterEach(async () => {
  await server?.close(100);
  await mesh?.destroy();
  await Promise.all(planes.splice(0).map((p) => p.close()));
  await ads?.stop();
  server = undefined;
  mesh = undefined;
  ads = undefined;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const DENY_ADMIN = `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: deny-admin, namespace: shop }
spec:
  selector: { matchLabels: { app: reviews } }
  action: DENY
  rules: [{ to: [{ operation: { paths: ["/admin*"] } }] }]
`;
const DISABLE = `
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: plaintext, namespace: shop }
spec: { mtls: { mode: DISABLE } }
`;

function bootstrap(port: number): string {
  return JSON.stringify({
    xds_servers: [{ server_uri: `127.0.0.1:${port}`, channel_creds: [{ type: 'insecure' }] }],
    node: { id: 'reviews-1', metadata: { NAMESPACE: 'shop', LABELS: { app: 'reviews' } } },
    server_listener_resource_name_template: 'xds.istio.io/grpc/lds/inbound/%s',
  });
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const end = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function serve(xdsPort: number): Promise<(p: string) => Promise<number>> {
  mesh = createMesh({ env: false, logger: quiet, xds: { bootstrap: bootstrap(xdsPort), inbound: '127.0.0.1:8080', backoff: { baseMs: 50, maxMs: 200 } } });
  server = mesh.createServer((_req, res) => res.end('ok'));
  const { port } = await server.listen(0, '127.0.0.1');
  return async (p: string) => {
    const res = await request(`http://127.0.0.1:${port}${p}`);
    await res.body.dump();
    return res.statusCode;
  };
}

test('an AuthorizationPolicy in the control plane file denies on the server; removing it allows again', async () => {
  const file = path.join(dir, 'mesh.yaml');
  writeFileSync(file, `services: {}\n---${DENY_ADMIN}---${DISABLE}`);
  const cp = new ControlPlane({ configFile: file, host: '127.0.0.1', port: 0, logger: quiet, debounceMs: 10 });
  planes.push(cp);
  await cp.start();
  const status = await serve(cp.port);
  await until(async () => (await status('/admin/users')) === 403, 'the DENY policy to arrive');
  expect(await status('/public')).toBe(200);
  const client = cp.status().clients.find((c) => c.nodeId === 'reviews-1');
  expect(client?.subscriptions.find((s) => s.typeUrl === TYPE_URL.listener)?.sent).toContain(INBOUND);
  expect(mesh!.config.current.config.mesh.security?.mtls?.mode).toBe('DISABLE');

  writeFileSync(file, `services: {}\n---${DISABLE}`);
  await until(async () => (await status('/admin/users')) === 200, 'the policy to be lifted');
});

function listener(rbac: Record<string, unknown>): { type_url: string; value: Buffer } {
  const hcm = {
    stat_prefix: 'inbound_8080',
    route_config: { name: 'inbound', virtual_hosts: [{ name: 'in', domains: ['*'], routes: [{ match: { prefix: '/' }, non_forwarding_action: {} }] }] },
    http_filters: [
      { name: 'envoy.filters.http.rbac', typed_config: packAny(RBAC_TYPE_URL, rbac) },
      { name: 'envoy.filters.http.router', typed_config: packAny(ROUTER_TYPE_URL, {}) },
    ],
  };
  return packAny(TYPE_URL.listener, {
    name: INBOUND,
    address: { socket_address: { address: '127.0.0.1', port_value: 8080 } },
    filter_chains: [{ filters: [{ name: 'hcm', typed_config: packAny(TYPE_URL.httpConnectionManager, hcm) }] }],
  });
}

const denyAdmin = {
  rules: { action: 'DENY', policies: { 'no-admin': { permissions: [{ url_path: { path: { prefix: '/admin' } } }], principals: [{ any: true }] } } },
};

test('a bad RBAC config is NACKed naming the listener and field; the last good policy stays in force', async () => {
  ads = new TestAdsServer();
  await ads.start();
  ads.set(TYPE_URL.listener, [listener(denyAdmin)]);
  const status = await serve(ads.port);
  await until(async () => (await status('/admin')) === 403, 'the first policy');

  const bad = {
    rules: {
      action: 'DENY',
      policies: { 'no-admin': { permissions: [{ url_path: { path: { safe_regex: { regex: '^/(admin|root)' } } } }], principals: [{ any: true }] } },
    },
  };
  ads.set(TYPE_URL.listener, [listener(bad)]);
  await until(async () => ads!.nacks(TYPE_URL.listener).length > 0, 'the NACK');
  const message = ads.nacks(TYPE_URL.listener)[0]!.error_detail!.message;
  expect(message).toContain(`Listener "${INBOUND}"`);
  expect(message).toContain('policies["no-admin"].permissions[0].url_path.path.safe_regex');
  expect(await status('/admin')).toBe(403);
  expect(await status('/root')).toBe(200);
  expect(mesh!.xdsStatus()?.types.listener.lastNack?.message).toContain('safe_regex');

  // Decodes, but the policy it makes fails the same validation a file's would: NACKed, naming the listener.
  const badHeader = {
    rules: {
      action: 'DENY',
      policies: { 'no-admin': { permissions: [{ any: true }], principals: [{ header: { name: 'x y', exact_match: 'a' } }] } },
    },
  };
  ads.set(TYPE_URL.listener, [listener(badHeader)]);
  await until(async () => ads!.nacks(TYPE_URL.listener).length > 1, 'the second NACK');
  const second = ads.nacks(TYPE_URL.listener)[1]!.error_detail!.message;
  expect(second).toContain(`inbound listener "${INBOUND}"`);
  expect(second).toContain('authorizationPolicies[0]');
  expect(await status('/admin')).toBe(403);
  expect(await status('/other')).toBe(200);
});
