/** The gRPC bench's service definition, loaded from bench.proto with proto-loader, as an application would. */
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

const PROTO = fileURLToPath(new URL('./bench.proto', import.meta.url));
const loaded = grpc.loadPackageDefinition(loadSync(PROTO, { defaults: true })) as unknown as {
  proxyless: { bench: { Bench: grpc.ServiceClientConstructor } };
};
export const BenchClient = loaded.proxyless.bench.Bench;

export const echoImplementation = {
  echo: (call: grpc.ServerUnaryCall<{ text: string; n: number }, unknown>, callback: grpc.sendUnaryData<unknown>) => {
    callback(null, { text: call.request.text, n: call.request.n });
  },
};
