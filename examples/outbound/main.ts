/**
 * Outbound HTTP three ways: meshFetch from env vars, mesh.request from code
 * options, and every plain fetch in the process via setGlobalDispatcher.
 *
 *   npx tsx examples/outbound/main.ts
 */

import { createMesh, defaultMesh, meshFetch } from 'proxyless';
import { setGlobalDispatcher } from 'undici';
import { startCatalogReplicas } from './backends.js';

const catalog = await startCatalogReplicas();

// 1. Env vars only: what a Deployment would set. meshFetch builds its mesh
//    from them on first use.
process.env.MESH_SERVICES = `catalog=${catalog.addresses.join(',')}`;
process.env.MESH_LB_POLICY = 'round-robin';
for (let i = 0; i < 4; i++) {
  const res = await meshFetch('http://catalog/items');
  const body = (await res.json()) as { replica: string; host: string };
  console.log(`meshFetch           -> ${body.replica} (Host: ${body.host})`);
}

// 2. Code options and undici.request's contract.
const mesh = createMesh({
  env: false,
  config: {
    mesh: { namespace: 'shop' },
    services: { catalog: { endpoints: catalog.addresses, loadBalancer: { policy: 'least-request' } } },
  },
});
await mesh.ready();
const { statusCode, body } = await mesh.request('http://catalog.shop.svc.cluster.local:8080/items/42');
console.log(`mesh.request        -> ${statusCode} ${JSON.stringify(await body.json())}`);

// 3. Mesh every fetch in the process, third-party SDKs included.
setGlobalDispatcher(mesh.dispatcher);
const viaGlobal = (await (await fetch('http://catalog.shop/items')).json()) as { replica: string };
console.log(`global fetch        -> ${viaGlobal.replica}`);

await mesh.close();
await defaultMesh().close();
catalog.close();
