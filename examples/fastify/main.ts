/**
 * A Fastify service on the mesh: one `app.register(meshFastify(mesh))`, a
 * handler that calls another service with meshFetch, per-route metrics and
 * a graceful drain.
 *
 *   npx tsx examples/fastify/main.ts
 */
import Fastify from 'fastify';
import { defaultMesh, type MeshRequestContext, meshFastify, meshFetch, meshHttpOptions } from 'proxyless';
import { startInventory } from '../express/inventory.js';

const inventory = await startInventory();
process.env.MESH_SERVICE_NAME = 'shop';
process.env.MESH_SERVICES = `inventory=${inventory.address}`;
const mesh = defaultMesh();

// The mesh's request and response classes: optional, saves a listener and two wrappers per response.
const app = Fastify({ http: meshHttpOptions() });
await app.register(meshFastify(mesh));
app.get<{ Params: { id: string } }>('/products/:id', async (req) => {
  const stock = (await (await meshFetch(`http://inventory/stock/${req.params.id}`)).json()) as { inStock: number; deadlineMs: string | null };
  const caller = (req as { mesh?: MeshRequestContext }).mesh;
  return {
    id: req.params.id,
    inStock: stock.inStock,
    inventoryBudgetMs: Number(stock.deadlineMs),
    caller: caller?.peer.principal ?? 'plaintext (no identity)',
  };
});
const base = await app.listen({ port: 0, host: '127.0.0.1' });

for (const path of ['/products/1', '/products/2', '/products/3', '/nope']) {
  const res = await fetch(`${base}${path}`, { headers: { 'x-mesh-timeout-ms': '2000' } });
  console.log(`GET ${path} -> ${res.status} ${res.status === 200 ? await res.text() : ''}`.trimEnd());
}

const metrics = await mesh.metricsRegistry!.metrics();
for (const line of metrics.split('\n').filter((l) => l.startsWith('proxyless_inbound_requests_total{'))) console.log(line);

// The plugin attached Fastify's server: the mesh's drain closes it.
await mesh.close();
console.log(`drained: listening=${app.server.listening}`);
inventory.close();
