/**
 * An Express service on the mesh: one `app.use(meshExpress(mesh))`, a
 * handler that calls another service with meshFetch, per-route metrics and
 * a graceful drain.
 *
 *   npx tsx examples/express/main.ts
 */
import type { AddressInfo } from 'node:net';
import express from 'express';
import { defaultMesh, meshExpress, meshExpressErrors, meshFetch } from 'proxyless';
import { startInventory } from './inventory.js';

const inventory = await startInventory();
// What a Deployment would set: this service's name, and where "inventory" is.
process.env.MESH_SERVICE_NAME = 'shop';
process.env.MESH_SERVICES = `inventory=${inventory.address}`;
const mesh = defaultMesh();

const app = express();
app.use(meshExpress(mesh));
app.get('/products/:id', async (req, res) => {
  // Inside the handler the caller's deadline is already in force: meshFetch passes it on.
  const stock = (await (await meshFetch(`http://inventory/stock/${req.params.id}`)).json()) as { inStock: number; deadlineMs: string | null };
  res.json({
    id: req.params.id,
    inStock: stock.inStock,
    // The budget inventory was told: what was left of the caller's 2000 ms.
    inventoryBudgetMs: Number(stock.deadlineMs),
    caller: req.mesh?.peer.principal ?? 'plaintext (no identity)',
  });
});
app.use(meshExpressErrors());

const server = app.listen(0, '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

for (const path of ['/products/1', '/products/2', '/products/3', '/nope']) {
  const res = await fetch(`${base}${path}`, { headers: { 'x-mesh-timeout-ms': '2000' } });
  console.log(`GET ${path} -> ${res.status} ${res.status === 200 ? await res.text() : ''}`.trimEnd());
}

// Route templates, never raw paths: three requests under one label.
const metrics = await mesh.metricsRegistry!.metrics();
for (const line of metrics.split('\n').filter((l) => l.startsWith('proxyless_inbound_requests_total{'))) console.log(line);

// What SIGTERM does too: readiness off, the listener closed, requests in flight finished.
await mesh.close();
console.log(`drained: listening=${server.listening}`);
inventory.close();
