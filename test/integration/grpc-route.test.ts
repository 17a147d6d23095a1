/**
 * A Gateway API GRPCRoute in a mesh file, end to end: real grpc-js
 * servers, the mesh's gRPC client, and calls that land by method and
 * metadata as the route says.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createMesh, type Mesh } from '../../src/index.js';
import { callUnary, EchoClient, type EchoClientInstance, type EchoReplica, startEchoReplica } from '../helpers/grpc/echo-replicas.js';

let dir: string;
let main: EchoReplica;
let writes: EchoReplica;
let canary: EchoReplica;
let mesh: Mesh;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'grpc-route-'));
  [main, writes, canary] = await Promise.all([startEchoReplica('main'), startEchoReplica('writes'), startEchoReplica('canary')]);
  const file = join(dir, 'mesh.yaml');
  writeFileSync(
    file,
    `
mesh: { namespace: shop }
services:
  echo: { port: 50051, endpoints: ["127.0.0.1:${main.port}"] }
  echo-writes: { port: 50051, endpoints: ["127.0.0.1:${writes.port}"] }
  echo-canary: { port: 50051, endpoints: ["127.0.0.1:${canary.port}"] }
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: { name: echo, namespace: shop }
spec:
  parentRefs: [{ group: "", kind: Service, name: echo }]
  rules:
    - backendRefs: [{ name: echo, port: 50051 }]
    - matches: [{ method: { service: proxyless.test.Echo, method: Put } }]
      backendRefs: [{ name: echo-writes, port: 50051 }]
    - matches: [{ headers: [{ name: x-canary, value: "1" }] }]
      backendRefs: [{ name: echo-canary, port: 50051 }]
`,
  );
  mesh = createMesh({ env: false, configFile: file, logger: { info() {}, warn() {}, error() {} } });
  await mesh.ready();
});

afterAll(async () => {
  await mesh.destroy();
  for (const r of [main, writes, canary]) r.server.forceShutdown();
  rmSync(dir, { recursive: true, force: true });
});

test('calls land by method and metadata, the most specific match first whatever the written order', async () => {
  const client = mesh.grpc.client(EchoClient, 'echo') as unknown as EchoClientInstance;
  try {
    expect((await callUnary(client, 'get', { text: 'a' })).replica).toBe('main');
    expect((await callUnary(client, 'put', { text: 'b' })).replica).toBe('writes');
    const canaryCall = new grpc.Metadata();
    canaryCall.set('x-canary', '1');
    expect((await callUnary(client, 'get', { text: 'c' }, {}, canaryCall)).replica).toBe('canary');
    // A method match outranks a header match.
    const both = new grpc.Metadata();
    both.set('x-canary', '1');
    expect((await callUnary(client, 'put', { text: 'd' }, {}, both)).replica).toBe('writes');
  } finally {
    client.close();
  }
});
