/**
 * A gRPC service pair on the mesh: `frontend` calls `inventory` (two
 * replicas) with `mesh.grpc.client()`, over mTLS with SPIFFE identities.
 *
 *   npx tsx examples/grpc/main.ts
 *
 * It shows the mesh's balancing across the replicas, a replica going away
 * with no failed call (GetItem is NO_SIDE_EFFECTS in the proto, so it may
 * be retried; Reserve is not, and a connect failure is retried for it only
 * because nothing was sent), the deadline reaching the server as
 * grpc-timeout, and the client's Istio metrics.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { createMesh, currentDeadline, type Mesh, type MeshGrpcServer, meshContextOf } from 'proxyless';

const PROTO = fileURLToPath(new URL('../grpc-server/inventory.proto', import.meta.url));
const { shop } = grpc.loadPackageDefinition(loadSync(PROTO)) as unknown as { shop: { Inventory: grpc.ServiceClientConstructor } };
const caDir = mkdtempSync(join(tmpdir(), 'proxyless-grpc-pair-'));

function meshAs(serviceAccount: string, services: Record<string, unknown> = {}): Mesh {
  return createMesh({
    env: false,
    config: {
      mesh: {
        namespace: 'shop',
        serviceName: serviceAccount,
        security: { serviceAccount, certificates: { provider: 'dev', dir: caDir }, mtls: { mode: 'STRICT' } },
      },
      services,
    } as never,
  });
}

/** One inventory replica: a mesh gRPC server that says who it is, who called and what deadline it runs under. */
async function replica(name: string): Promise<{ mesh: Mesh; server: MeshGrpcServer; port: number }> {
  const mesh = meshAs('inventory');
  await mesh.ready();
  const server = mesh.grpc.server();
  const item = (call: grpc.ServerUnaryCall<{ sku: string }, unknown>) => {
    const deadline = currentDeadline();
    return {
      sku: `${call.request.sku}@${name}`,
      stock: 7,
      caller: meshContextOf(call)?.peer.spiffeId ?? 'nobody',
      budgetMs: deadline === undefined ? 0 : Math.floor(deadline.at - performance.now()),
    };
  };
  server.addService(shop.Inventory.service, {
    getItem: (call: grpc.ServerUnaryCall<{ sku: string }, unknown>, cb: grpc.sendUnaryData<unknown>) => cb(null, item(call)),
    reserve: (call: grpc.ServerUnaryCall<{ sku: string }, unknown>, cb: grpc.sendUnaryData<unknown>) => cb(null, item(call)),
  });
  const { port } = await server.listen(0, '127.0.0.1');
  return { mesh, server, port };
}

const a = await replica('a');
const b = await replica('b');
const frontend = meshAs('frontend', {
  inventory: {
    endpoints: [`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`],
    loadBalancer: { policy: 'round-robin' },
    tls: { mode: 'mutual', subjectAltNames: ['spiffe://cluster.local/ns/shop/sa/inventory'] },
  },
});
await frontend.ready();
const inventory = frontend.grpc.client(shop.Inventory, 'inventory') as grpc.Client &
  Record<string, (req: object, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, item: { sku: string; caller: string; budgetMs: number }) => void) => void>;

function call(method: 'getItem' | 'reserve', sku: string): Promise<string> {
  return new Promise((resolve) =>
    inventory[method]!({ sku, quantity: 1 }, { deadline: Date.now() + 2_000 }, (err, item) =>
      resolve(err ? `${grpc.status[err.code]}: ${err.details}` : `${item.sku} for ${item.caller} (deadline ${item.budgetMs > 0 && item.budgetMs <= 2_000 ? 'within 2000 ms' : `${item.budgetMs} ms`})`),
    ),
  );
}

for (let i = 0; i < 4; i++) console.log(`GetItem: ${await call('getItem', 'apple')}`);
// Replica b goes away at once (a crash, not a drain): its connection breaks under the client.
b.server.destroy();
await b.mesh.destroy();
console.log('replica b is gone');
for (let i = 0; i < 4; i++) console.log(`GetItem: ${await call('getItem', 'apple')}`);
console.log(`Reserve: ${await call('reserve', 'pear')}`);

const metrics = await frontend.metricsRegistry!.metrics();
for (const line of metrics.split('\n').filter((l) => l.startsWith('istio_requests_total{'))) {
  const status = /grpc_response_status="(\d+)"/.exec(line)?.[1];
  const protocol = /request_protocol="(\w+)"/.exec(line)?.[1];
  console.log(`metric: istio_requests_total{reporter="source",request_protocol="${protocol}",grpc_response_status="${status}"} ${line.split(' ').at(-1)}`);
}

inventory.close();
await frontend.close();
await a.mesh.close();
rmSync(caDir, { recursive: true, force: true });
