import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';

const run = promisify(execFile);

/** Runs an example as a user would, with no mesh configuration inherited from this environment. */
function example(file: string, env: Record<string, string> = {}) {
  return run(process.execPath, ['--import', 'tsx', file], {
    timeout: 15_000,
    env: { ...process.env, MESH_SERVICES: '', MESH_CONFIG_FILE: '', ...env },
  });
}

test('examples/outbound runs and shows all three ways of calling a meshed service', async () => {
  const { stdout } = await example('examples/outbound/main.ts');
  const lines = stdout.trim().split('\n');
  const viaMeshFetch = lines.filter((l) => l.startsWith('meshFetch'));
  expect(viaMeshFetch).toHaveLength(4);
  // round-robin over two replicas, from env vars alone
  expect(new Set(viaMeshFetch.map((l) => l.match(/catalog-\d/)![0]))).toEqual(new Set(['catalog-1', 'catalog-2']));
  expect(lines.find((l) => l.startsWith('mesh.request'))).toContain('"host":"catalog.shop.svc.cluster.local:8080"');
  expect(lines.find((l) => l.startsWith('global fetch'))).toMatch(/catalog-\d/);
});

test('examples/canary splits 1,000 requests about 90/10, and routes x-user: jason and the canary caller to v2 only', async () => {
  const { stdout } = await example('examples/canary/main.ts');
  const count = (version: string) => Number(stdout.match(new RegExp(`^split ${version}: (\\d+) of 1000`, 'm'))?.[1]);
  const v1 = count('v1');
  const v2 = count('v2');
  expect(v1 + v2).toBe(1_000);
  // Binomial(1000, 0.1) has a standard deviation of 9.5: ±50 is over five of them.
  expect(Math.abs(v2 - 100)).toBeLessThanOrEqual(50);
  expect(stdout).toMatch(/^x-user: jason -> v2 \(20 requests\)$/m);
  expect(stdout).toMatch(/^caller track: canary -> v2 \(20 requests\)$/m);
});

test('examples/resilience retries GETs to success, refuses to retry a POST, enforces a deadline and opens a breaker', async () => {
  const { stdout } = await example('examples/resilience/main.ts');
  const lines = stdout.trim().split('\n');
  // a. Every other request is dropped, so every GET needed exactly one retry.
  expect(lines).toContain('a. GET x20: 20 ok, 0 failed, 20 retries, 40 requests reached the backend');
  expect(lines).toContain('a. POST: MESH_UPSTREAM_RESET, notRetried=non-idempotent');
  expect(lines.find((l) => l.startsWith('a. POST message:'))).toContain('not retried: the method is not idempotent');
  // b. The 200 ms deadline won over the service's 10 s timeout.
  const deadline = lines.find((l) => l.startsWith('b. search:'))!;
  expect(deadline).toMatch(/^b\. search: MESH_DEADLINE_EXCEEDED after \d+ ms \(details\.source=inherited\)$/);
  const ms = Number(deadline.match(/after (\d+) ms/)![1]);
  expect(ms).toBeGreaterThanOrEqual(190);
  expect(ms).toBeLessThan(1_000);
  const budget = Number(lines.find((l) => l.startsWith('b. the backend was told'))!.split(': ')[1]);
  expect(budget).toBeGreaterThan(0);
  expect(budget).toBeLessThanOrEqual(200);
  // c. Five 500s open the breaker; after that the fallback answers and the backend sees nothing.
  const inventory = lines.filter((l) => l.startsWith('c. inventory #'));
  expect(inventory.slice(0, 5).every((l) => / 500 /.test(l))).toBe(true);
  expect(inventory.slice(5)).toEqual([6, 7, 8].map((i) => `c. inventory #${i}: 200 {"items":[],"stale":true}`));
  expect(lines).toContain('c. circuit inventory: closed -> open');
  expect(lines).toContain('c. requests that reached the inventory backend: 5');
});

test('examples/mtls: STRICT mTLS and a default-deny policy let only the frontend GET the API', async () => {
  const { stdout } = await example('examples/mtls/main.ts');
  const lines = stdout.trim().split('\n');
  expect(lines.slice(0, 3)).toEqual([
    'backend  is spiffe://cluster.local/ns/shop/sa/backend',
    'frontend is spiffe://cluster.local/ns/shop/sa/frontend',
    'reports  is spiffe://cluster.local/ns/shop/sa/reports',
  ]);
  // The backend read the caller's identity from its client certificate.
  expect(lines).toContain('frontend GET /api/items: 200, the backend saw spiffe://cluster.local/ns/shop/sa/frontend (namespace shop)');
  // Only GET is allowed, and only for the frontend: the rest falls to the default deny.
  expect(lines).toContain('frontend POST /api/items: 403 no ALLOW policy matched');
  expect(lines).toContain('reports  GET /api/items: 403 no ALLOW policy matched');
  // The client checks the server's SPIFFE ID, not its host name.
  expect(lines).toContain(
    'frontend GET http://payments/api/items: MESH_PEER_VERIFICATION_FAILED: endpoint 127.0.0.1:<port> presented spiffe://cluster.local/ns/shop/sa/backend; expected spiffe://cluster.local/ns/shop/sa/payments',
  );
  expect(lines).toContain('plaintext GET /api/items: refused: the connection was closed without an HTTP response');
  expect(lines).toContain('  the backend logged: inbound TLS handshake failed (http request)');
  expect(lines).toContain('denials published on proxyless:denied: 2 (MESH_PERMISSION_DENIED)');
});

test('examples/tracing: one trace from the app span through the mesh client span to a server span per attempt, sent over OTLP', async () => {
  const { stdout } = await example('examples/tracing/main.ts', { OTEL_TRACES_SAMPLER: '', OTEL_SDK_DISABLED: '' });
  expect(stdout.trim().split('\n')).toEqual([
    'GET http://catalog/items: 200 after 2 attempts',
    'collector received 4 spans in 1 trace(s):',
    '  render product page [INTERNAL, shop]',
    '    GET catalog [CLIENT, proxyless] 200 events: proxyless.attempt.start, proxyless.attempt.end, proxyless.attempt.start, proxyless.attempt.end',
    '      GET [SERVER, proxyless] 503',
    '      GET [SERVER, proxyless] 200',
  ]);
});

test('examples/tracing/provider: createOtelProvider() traces the one mesh it is given, and registers nothing globally', async () => {
  const { stdout } = await example('examples/tracing/provider.ts', { OTEL_TRACES_SAMPLER: '', OTEL_SDK_DISABLED: '', OTEL_SERVICE_NAME: '' });
  expect(stdout.trim().split('\n')).toEqual([
    'GET http://catalog/items: 200',
    'the provider exported 1 span(s):',
    '  GET catalog [CLIENT, proxyless] 200 service.name=frontend',
    'catalog received traceparent of that client span: yes',
    "SERVER spans: 0 (the catalog's mesh was given no provider, and none is registered)",
    'a span from the global API records: false',
  ]);
});

test('examples/admin: the admin endpoint on port 0 serves metrics, clusters, the config and probes for the traffic sent', async () => {
  const { stdout } = await example('examples/admin/main.ts', { MESH_ADMIN_PORT: '', MESH_ADMIN_HOST: '' });
  const lines = stdout.trim().split('\n');
  // Port 0 became a real port, learnt from mesh.adminAddress().
  const port = Number(lines[0]?.match(/^admin endpoint on http:\/\/127\.0\.0\.1:(\d+)\/ /)?.[1]);
  expect(port).toBeGreaterThan(0);
  expect(lines).toContain('sent 10 requests to http://echo/hello: echo-1 5, echo-2 5');
  // /metrics counted exactly the ten calls, all 200.
  expect(lines).toContain('/metrics 200: istio_requests_total{reporter="source",destination_service_name="echo"} response_code=200: 10');
  expect(lines).toContain('/clusters 200: echo, round-robin, circuit none, 2 endpoints: healthy, healthy');
  expect(lines).toContain('/clusters?format=text 200: 2 lines "echo::<address>::health_flags::healthy" (Envoy\'s format)');
  expect(lines).toContain(
    '/config_dump 200: version 1, sources options, services echo, serviceName frontend, mesh.loadBalancer.policy peak-ewma (a default, filled in), lastRejection null',
  );
  expect(lines).toContain('/healthz 200: ok');
  expect(lines).toContain('/readyz 200: ready');
});

test('examples/express/deferred-authorization: routes first, then authorizeRequest(req) refuses with 401/403 and publishes each refusal', async () => {
  const { stdout } = await example('examples/express/deferred-authorization.ts');
  expect(stdout.trim().split('\n')).toEqual([
    'GET /orders/7 (alice\'s token) -> 200 {"id":"7","user":"https://issuer.example/alice"}',
    'GET /orders/7 (no token) -> 403 no ALLOW policy matched',
    'GET /orders/7 (forged token) -> 401',
    // A path no route serves: Express's 404, not the default deny's 403.
    'GET /nope (no token) -> 404',
    'denials published on proxyless:denied: MESH_PERMISSION_DENIED, MESH_UNAUTHENTICATED',
    'drained: listening=false',
  ]);
});
