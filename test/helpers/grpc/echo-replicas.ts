/**
 * Plain grpc-js replicas of the test Echo service (no mesh on the server
 * side), for the mesh client's tests: each reply names the replica and
 * what it saw of the call.
 */
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

const PROTO = fileURLToPath(new URL('./echo.proto', import.meta.url));
const definition = loadSync(PROTO, { keepCase: false, defaults: true });
const loaded = grpc.loadPackageDefinition(definition) as unknown as {
  proxyless: { test: { Echo: grpc.ServiceClientConstructor } };
};
export const EchoClient = loaded.proxyless.test.Echo;
export type EchoClientInstance = grpc.Client & Record<string, (...args: unknown[]) => unknown>;

export interface EchoRequest {
  text?: string;
  failWith?: number;
  delayMs?: number;
  count?: number;
}
export interface EchoReply {
  text: string;
  replica: string;
  timeoutMs: number;
  metadata: string;
}

export interface EchoReplica {
  readonly name: string;
  readonly port: number;
  readonly server: grpc.Server;
  /** Calls this replica received, by method name. */
  readonly calls: Map<string, number>;
}

function remainingMs(call: { getDeadline(): grpc.Deadline }): number {
  const d = call.getDeadline();
  const at = d instanceof Date ? d.getTime() : Number(d);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : -1;
}

export async function startEchoReplica(
  name: string,
  credentials: grpc.ServerCredentials = grpc.ServerCredentials.createInsecure(),
  /** Every unary answer of this replica waits this long (a slow replica). */
  replicaDelayMs = 0,
): Promise<EchoReplica> {
  const server = new grpc.Server();
  const calls = new Map<string, number>();
  const count = (method: string) => calls.set(method, (calls.get(method) ?? 0) + 1);
  const reply = (call: grpc.ServerUnaryCall<EchoRequest, EchoReply>, text: string): EchoReply => ({
    text,
    replica: name,
    timeoutMs: remainingMs(call),
    metadata: JSON.stringify(call.metadata.getMap()),
  });
  const unary =
    (method: string) => (call: grpc.ServerUnaryCall<EchoRequest, EchoReply>, callback: grpc.sendUnaryData<EchoReply>) => {
      count(method);
      const answer = () => {
        const fail = call.request.failWith ?? 0;
        if (fail !== 0) callback({ code: fail, details: `${name} answered ${fail}` });
        else callback(null, reply(call, call.request.text ?? ''));
      };
      const delay = (call.request.delayMs ?? 0) + replicaDelayMs;
      if (delay > 0) setTimeout(answer, delay);
      else answer();
    };
  server.addService(EchoClient.service, {
    get: unary('Get'),
    put: unary('Put'),
    watch: (call: grpc.ServerWritableStream<EchoRequest, EchoReply>) => {
      count('Watch');
      const fail = call.request.failWith ?? 0;
      if (fail !== 0) {
        call.emit('error', { code: fail, details: `${name} answered ${fail}` });
        return;
      }
      for (let i = 0; i < (call.request.count ?? 1); i++) {
        call.write({ text: `${call.request.text}-${i}`, replica: name, timeoutMs: remainingMs(call), metadata: '' });
      }
      call.end();
    },
    collect: (call: grpc.ServerReadableStream<EchoRequest, EchoReply>, callback: grpc.sendUnaryData<EchoReply>) => {
      count('Collect');
      const texts: string[] = [];
      call.on('data', (m: EchoRequest) => texts.push(m.text ?? ''));
      call.on('end', () => callback(null, { text: texts.join(','), replica: name, timeoutMs: remainingMs(call), metadata: '' }));
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', credentials, (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { name, port, server, calls };
}

/** One unary call as a promise: the reply, or the ServiceError. */
export function callUnary(
  client: EchoClientInstance,
  method: 'get' | 'put',
  request: EchoRequest,
  options: grpc.CallOptions = {},
  metadata: grpc.Metadata = new grpc.Metadata(),
): Promise<EchoReply> {
  return new Promise((resolve, reject) => {
    (client[method] as (r: unknown, m: grpc.Metadata, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, v: EchoReply) => void) => void)(
      request,
      metadata,
      options,
      (err, value) => (err ? reject(err) : resolve(value)),
    );
  });
}

export async function errorOf(p: Promise<unknown>): Promise<grpc.ServiceError> {
  return p.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: grpc.ServiceError) => e,
  );
}
