/**
 * The admin endpoint (docs/admin.md): a mesh with `admin: { port: 0 }`
 * balances ten calls over two echo replicas, then reads its own admin
 * endpoint the way Prometheus, a readiness probe and an operator would:
 * /metrics, /clusters, /config_dump, /healthz and /readyz.
 *
 *   npx node --import tsx examples/admin/main.ts
 *
 * With MESH_ADMIN_PORT=9901 in the environment instead of the option, the
 * same endpoint listens on 9901 (the option wins when both are given).
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMesh } from 'proxyless';

// Two replicas of an "echo" service that answer with their own name.
const replicas: Server[] = [];
for (const name of ['echo-1', 'echo-2']) {
  const server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ replica: name, path: req.url }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  replicas.push(server);
}
const endpoints = replicas.map((s) => `127.0.0.1:${(s.address() as AddressInfo).port}`);

const mesh = createMesh({
  env: false,
  config: {
    mesh: { serviceName: 'frontend', namespace: 'shop' },
    services: { echo: { endpoints, loadBalancer: { policy: 'round-robin' } } },
  },
  // Port 0: any free port. Binds 127.0.0.1 unless `host` says otherwise.
  admin: { port: 0 },
});
await mesh.ready(); // resolves once the admin port is bound, too
const address = await mesh.adminAddress();
if (address === undefined) throw new Error('the admin endpoint is off');
const admin = `http://${address.host}:${address.port}`;
console.log(`admin endpoint on ${admin}/ (port 0 asked for any free port)`);

// Some traffic, so the metrics and the clusters have something to show.
const seen: Record<string, number> = {};
for (let i = 0; i < 10; i++) {
  const { body } = await mesh.request('http://echo/hello');
  const { replica } = (await body.json()) as { replica: string };
  seen[replica] = (seen[replica] ?? 0) + 1;
}
console.log(`sent 10 requests to http://echo/hello: ${Object.keys(seen).sort().map((r) => `${r} ${seen[r]}`).join(', ')}`);

// The admin endpoint is plain HTTP on loopback: any client reads it (curl, Prometheus, a probe).
async function get(path: string): Promise<{ status: number; type: string; text: string }> {
  const res = await fetch(`${admin}${path}`);
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
}

// /metrics: Prometheus' text format; Istio's request counter, as this process (reporter="source") saw its calls.
const metrics = await get('/metrics');
const calls = metrics.text
  .split('\n')
  .filter((l) => l.startsWith('istio_requests_total{') && l.includes('reporter="source"') && l.includes('destination_service_name="echo"'))
  .map((l) => ({ code: /response_code="(\d+)"/.exec(l)?.[1], count: Number(l.slice(l.lastIndexOf(' ') + 1)) }));
console.log(
  `/metrics ${metrics.status}: istio_requests_total{reporter="source",destination_service_name="echo"} ${calls.map((c) => `response_code=${c.code}: ${c.count}`).join(', ')}`,
);

// /clusters: every service the mesh balances over, with each endpoint's live state.
const clusters = await get('/clusters');
const { clusters: list } = JSON.parse(clusters.text) as {
  clusters: Array<{ service: string; loadBalancer: string; circuit: string; endpoints: Array<{ address: string; health: string; ejected: boolean; inFlight: number }> }>;
};
for (const c of list) {
  const states = c.endpoints.map((e) => `${e.health}${e.ejected ? ' (ejected)' : ''}`).join(', ');
  console.log(`/clusters ${clusters.status}: ${c.service}, ${c.loadBalancer}, circuit ${c.circuit}, ${c.endpoints.length} endpoints: ${states}`);
}
const text = await get('/clusters?format=text');
const flags = text.text.split('\n').filter((l) => l.endsWith('::health_flags::healthy')).length;
console.log(`/clusters?format=text ${text.status}: ${flags} lines "echo::<address>::health_flags::healthy" (Envoy's format)`);

// /config_dump: the config in force, the sources it came from, and the last rejected update.
const dump = await get('/config_dump');
const config = JSON.parse(dump.text) as {
  version: number;
  sources: Array<{ layer: string }>;
  lastRejection: unknown;
  config: { mesh: { serviceName: string; loadBalancer: { policy: string } }; services: Record<string, unknown> };
};
console.log(
  `/config_dump ${dump.status}: version ${config.version}, sources ${config.sources.map((s) => s.layer).join(', ')}, ` +
    `services ${Object.keys(config.config.services).join(', ')}, serviceName ${config.config.mesh.serviceName}, ` +
    `mesh.loadBalancer.policy ${config.config.mesh.loadBalancer.policy} (a default, filled in), lastRejection ${JSON.stringify(config.lastRejection)}`,
);

// Probes: liveness and readiness, as a Kubernetes pod would point them.
const healthz = await get('/healthz');
console.log(`/healthz ${healthz.status}: ${healthz.text.trim()}`);
const readyz = await get('/readyz');
console.log(`/readyz ${readyz.status}: ${readyz.text.trim()}`);

await mesh.close(); // stops the admin endpoint too
for (const s of replicas) {
  s.closeAllConnections();
  s.close();
}
