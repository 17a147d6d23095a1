/**
 * A ServiceEntry with two ports, from a mesh file through our own control
 * plane: each port is a service of its own on the entry's host, the mesh
 * reaches each by the port it calls, and a VirtualService for the host
 * applies on both ports (its port-9901 entry only there).
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Mesh } from '../../src/index.js';
import { answersSeen } from '../helpers/answers.js';
import { type FileControlPlane, fileControlPlane } from '../helpers/file-control-plane.js';
import { closeServers, startServer } from '../helpers/versioned-server.js';

let plane: FileControlPlane;
let mesh: Mesh;

beforeAll(async () => {
  const web = await startServer('web');
  const admin = await startServer('admin');
  plane = await fileControlPlane(`mesh: { namespace: shop }
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: billing, namespace: shop }
spec:
  hosts: [billing.internal]
  resolution: STATIC
  ports: [{ number: 80, name: http }, { number: 9901, name: admin }]
  endpoints: [{ address: 127.0.0.1, ports: { http: ${web.port}, admin: ${admin.port} } }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: billing, namespace: shop }
spec:
  hosts: [billing.internal]
  http:
    - match: [{ port: 9901, uri: { prefix: /private } }]
      directResponse: { status: 403 }
    - route: [{ destination: { host: billing.internal } }]
`);
  mesh = await plane.meshOver('billing.internal,billing.internal:9901', { MESH_NAMESPACE: 'shop' });
});

afterAll(async () => {
  await mesh?.destroy();
  await plane?.close();
  await closeServers();
});

test("each port of the entry answers by the port called, with the host's routes on each", async () => {
  expect(await answersSeen(mesh, 'http://billing.internal/x', 4)).toEqual(['200:web']);
  expect(await answersSeen(mesh, 'http://billing.internal:9901/x', 4)).toEqual(['200:admin']);
  expect(await answersSeen(mesh, 'http://billing.internal:9901/private', 2)).toEqual(['403:']);
  expect(await answersSeen(mesh, 'http://billing.internal/private', 2)).toEqual(['200:web']);
});
