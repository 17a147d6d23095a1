/**
 * One gRPC bench server in its own process: `raw` is a plain grpc-js
 * Server, `mesh` is mesh.grpc.server() with the inbound pipeline on
 * (admission, span, deadline, authorization, metrics), plaintext, so the
 * difference is the pipeline and not TLS. Prints {"port":N} when ready.
 */
import * as grpc from '@grpc/grpc-js';
import { createMesh } from '../../src/index.js';
import { BenchClient, echoImplementation } from './grpc-bench-service.js';

const variant = process.argv[2];
let port: number;
if (variant === 'raw') {
  const server = new grpc.Server();
  server.addService(BenchClient.service, echoImplementation);
  port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
} else {
  const mesh = createMesh({ env: false, config: { mesh: { serviceName: 'bench' } } });
  await mesh.ready();
  const server = mesh.grpc.server();
  server.addService(BenchClient.service, echoImplementation);
  ({ port } = await server.listen(0, '127.0.0.1'));
}
process.stdout.write(`${JSON.stringify({ port })}\n`);
