/**
 * The "reviews" service: answers with its version. Configured only through
 * the environment (VERSION, and MESH_* for the mesh); prints its port.
 */
import { createMesh } from 'proxyless';

const version = process.env.VERSION ?? 'v1';
const mesh = createMesh();
await mesh.ready();
const server = mesh.createServer((_req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ service: 'reviews', version }));
});
const { port } = await server.listen(0, '127.0.0.1');
console.log(`reviews ${version} listening ${port}`);
process.once('SIGTERM', () => void server.close(1000).then(() => mesh.close()));
