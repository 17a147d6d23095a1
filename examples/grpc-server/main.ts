/**
 * A gRPC service on the mesh: `mesh.grpc.server()` is a real grpc-js
 * server behind the mesh's inbound pipeline, with handler decorators.
 *
 *   npx tsx examples/grpc-server/main.ts
 *
 * The server runs PERMISSIVE mTLS with a development CA: mesh clients
 * (mTLS) and plain grpc-js clients (plaintext) share its one port. This
 * demo calls it with a plain grpc-js client, so the caller has no verified
 * identity; the same calls from a mesh client carry its SPIFFE ID.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { createMesh } from 'proxyless';
import { InventoryHandlers, type Item, inventoryDefinition } from './inventory.js';

const caDir = mkdtempSync(join(tmpdir(), 'proxyless-grpc-example-'));
const mesh = createMesh({
  env: false,
  config: {
    mesh: {
      namespace: 'shop',
      serviceName: 'inventory',
      security: { serviceAccount: 'inventory', certificates: { provider: 'dev', dir: caDir }, mtls: { mode: 'PERMISSIVE' } },
    },
  },
});
await mesh.ready();

const server = mesh.grpc.server();
const Inventory = inventoryDefinition();
server.addService(Inventory, new InventoryHandlers());
const { port } = await server.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
console.log(`inventory serving gRPC on 127.0.0.1:${port} as ${mesh.identity?.spiffeId}`);

// A plain grpc-js client, as any gRPC peer outside the mesh would call it.
const Client = grpc.makeGenericClientConstructor(Inventory, 'Inventory');
type UnaryMethod = (request: object, options: grpc.CallOptions, callback: (err: grpc.ServiceError | null, item: Item) => void) => void;
const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as grpc.Client & Record<string, UnaryMethod>;

function call(method: string, request: object, deadlineMs = 5_000): Promise<string> {
  return new Promise((resolve) => {
    client[method]!(request, { deadline: Date.now() + deadlineMs }, (err, item) => {
      if (err) return resolve(`${grpc.status[err.code]}: ${err.details}`);
      const budget = item.budgetMs > 0 && item.budgetMs <= 1_000 ? 'within 1000 ms' : `${item.budgetMs} ms`;
      resolve(`${item.sku} stock=${item.stock}, caller ${item.caller}, handler deadline ${budget}`);
    });
  });
}

// @Timeout(1000) caps the 5 s the client allows; @RateLimit lets 3 calls through a minute.
for (let i = 1; i <= 4; i++) console.log(`GetItem #${i}: ${await call('GetItem', { sku: 'apple' })}`);
// @Authorize({ namespaces: ['shop'] }): a caller without a verified identity is refused.
console.log(`Reserve: ${await call('Reserve', { sku: 'pear', quantity: 1 })}`);

const metrics = await mesh.metricsRegistry!.metrics();
for (const line of metrics.split('\n').filter((l) => l.startsWith('istio_requests_total{'))) {
  const status = /grpc_response_status="(\d+)"/.exec(line)?.[1];
  console.log(`metric: istio_requests_total{reporter="destination",grpc_response_status="${status}"} ${line.split(' ').at(-1)}`);
}

client.close();
// SIGTERM would do the same: stop accepting, let calls in flight finish, close.
await mesh.close();
rmSync(caDir, { recursive: true, force: true });
