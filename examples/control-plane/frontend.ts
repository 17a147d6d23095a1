/**
 * The "frontend" service: calls reviews through the mesh, which takes its
 * routes, clusters and endpoints from the control plane because
 * MESH_XDS_SERVER and MESH_XDS_LISTENERS are set. It has no address for
 * reviews of its own. GET /split?n=100 makes n calls and counts the versions.
 */
import { createMesh } from 'proxyless';

const mesh = createMesh();
await mesh.ready();
const server = mesh.createServer(async (req, res) => {
  const n = Number(new URL(req.url ?? '/', 'http://frontend').searchParams.get('n') ?? '100');
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const reply = await mesh.request('http://reviews:9080/reviews/1');
    const { version } = (await reply.body.json()) as { version: string };
    counts[version] = (counts[version] ?? 0) + 1;
  }
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(counts));
});
const { port } = await server.listen(0, '127.0.0.1');
console.log(`frontend listening ${port}`);
process.once('SIGTERM', () => void server.close(1000).then(() => mesh.close()));
