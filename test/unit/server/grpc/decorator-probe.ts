/**
 * Runs a decorated handler class behind a real mesh gRPC server and prints
 * what the decorators did, as one JSON line: the decorator-mode tests run
 * this in a child process compiled in one mode or the other (the handler
 * classes live in files whose tsconfig picks the mode).
 */
import * as grpc from '@grpc/grpc-js';
import { createMesh, meshContextOf } from '../../../../src/index.js';
import { currentDeadline, remainingMs } from '../../../../src/resilience/deadline-context.js';

const json = (v: unknown) => Buffer.from(JSON.stringify(v ?? null));
const parse = (b: Buffer) => JSON.parse(b.toString()) as unknown;
const SERVICE = 'test.Probe';

function unary(name: string): grpc.MethodDefinition<unknown, unknown> {
  const originalName = name[0]!.toLowerCase() + name.slice(1);
  return { path: `/${SERVICE}/${name}`, requestStream: false, responseStream: false, requestSerialize: json, requestDeserialize: parse, responseSerialize: json, responseDeserialize: parse, originalName };
}

export const ProbeService: grpc.ServiceDefinition = { Limited: unary('Limited'), Guarded: unary('Guarded'), Capped: unary('Capped'), Open: unary('Open') };

type Call = grpc.ServerUnaryCall<unknown, unknown>;
type Callback = grpc.sendUnaryData<unknown>;

/** The handlers' bodies; the subclasses in each mode's file only add decorators. */
export class ProbeHandlers {
  limited(_call: Call, cb: Callback) {
    cb(null, 'ok');
  }
  guarded(_call: Call, cb: Callback) {
    cb(null, 'ok');
  }
  capped(call: Call, cb: Callback) {
    cb(null, { budget: budget(), seen: meshContextOf(call) !== undefined });
  }
  open(call: Call, cb: Callback) {
    cb(null, { budget: budget(), seen: meshContextOf(call) !== undefined });
  }
}

function budget(): number | null {
  const d = currentDeadline();
  return d === undefined ? null : remainingMs(d);
}

function call(client: grpc.Client, method: string): Promise<{ code: number; value?: unknown }> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(`/${SERVICE}/${method}`, json, parse, {}, new grpc.Metadata(), {}, (err, value) =>
      resolve(err ? { code: err.code } : { code: 0, value }),
    );
  });
}

export async function runProbe(handler: ProbeHandlers, mode: string): Promise<void> {
  const mesh = createMesh({ env: false, config: { mesh: { namespace: 'shop', serviceName: 'probe' } } });
  const server = mesh.grpc.server();
  server.addService(ProbeService, handler);
  const { port } = await server.listen(0, '127.0.0.1');
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const limited = [];
  for (let i = 0; i < 3; i++) limited.push((await call(client, 'Limited')).code);
  const result = {
    mode,
    limited,
    guarded: (await call(client, 'Guarded')).code,
    capped: (await call(client, 'Capped')).value,
    open: (await call(client, 'Open')).value,
    idempotent: [mesh.grpc.methods.isIdempotent(`/${SERVICE}/Limited`), mesh.grpc.methods.isIdempotent(`/${SERVICE}/Open`)],
  };
  client.close();
  await mesh.close();
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
