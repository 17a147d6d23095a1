/**
 * gRPC request and response sizes, on both sides: a mesh client calling a
 * mesh server (real grpc-js on port 0), each side's access log and Istio
 * histograms checked against the bytes the messages take on the wire
 * (serialized length + the 5-byte gRPC prefix, summed over the call's
 * messages), for unary, server-streaming, client-streaming and bidi calls,
 * proto-loader messages, retries and hedges, and concurrent calls on one
 * channel.
 */
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { afterEach, expect, test } from 'vitest';
import { createMesh, type Mesh, type MeshGrpcServer } from '../../src/index.js';
import { EchoClient } from '../helpers/grpc/echo-replicas.js';
import { jsonMethod } from '../helpers/grpc/json-method.js';

const meshes: Mesh[] = [];
const servers: MeshGrpcServer[] = [];
const clients: grpc.Client[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const s of servers.splice(0)) s.destroy();
  await Promise.all(meshes.splice(0).map((m) => m.destroy()));
});

// --- a JSON service: a message's size is its JSON's length ----------------

type Msg = Record<string, unknown>;
/** What one message takes on the wire: its bytes behind gRPC's 5-byte prefix. */
const wire = (...messages: unknown[]) => messages.reduce<number>((n, m) => n + Buffer.byteLength(JSON.stringify(m)) + 5, 0);

const SERVICE = 'test.Bytes';
const method = (name: string, requestStream: boolean, responseStream: boolean) => jsonMethod(SERVICE, name, requestStream, responseStream);
const BytesService: grpc.ServiceDefinition = {
  Unary: method('Unary', false, false),
  Download: method('Download', false, true),
  Upload: method('Upload', true, false),
  Chat: method('Chat', true, true),
};
const BytesClient = grpc.makeGenericClientConstructor(BytesService, 'Bytes');
type BytesClientInstance = grpc.Client & Record<string, (...args: unknown[]) => unknown>;

/** The server's answers, computed the same way on both ends of the test. */
const unaryReply = (req: Msg) => ({ echo: req.text, pad: 'p'.repeat(Number(req.pad ?? 0)) });
const downloadReplies = (req: Msg) => Array.from({ length: Number(req.count) }, (_, i) => ({ i, text: String(req.text).repeat(i + 1) }));
const uploadReply = (reqs: Msg[]) => ({ got: reqs.length, joined: reqs.map((r) => r.text).join('+') });
const chatReply = (req: Msg) => ({ echo: `${req.text}!` });

class BytesHandler {
  /** Texts whose first call answers UNAVAILABLE (a retry test). */
  readonly failOnce = new Set<string>();
  /** Texts whose first call waits 1.5 s (a hedge test). */
  readonly slowOnce = new Set<string>();

  unary(call: grpc.ServerUnaryCall<Msg, unknown>, cb: grpc.sendUnaryData<unknown>) {
    const req = call.request;
    if (this.failOnce.delete(String(req.text))) return cb({ code: grpc.status.UNAVAILABLE, details: 'try again' });
    const delay = this.slowOnce.delete(String(req.text)) ? 1_500 : Number(req.delayMs ?? 0);
    setTimeout(() => cb(null, unaryReply(req)), delay);
  }
  download(call: grpc.ServerWritableStream<Msg, unknown>) {
    for (const r of downloadReplies(call.request)) call.write(r);
    call.end();
  }
  upload(call: grpc.ServerReadableStream<Msg, unknown>, cb: grpc.sendUnaryData<unknown>) {
    const got: Msg[] = [];
    // The handler starts reading late, so reads do not follow arrivals one to one.
    setTimeout(() => {
      call.on('data', (m: Msg) => got.push(m));
      call.on('end', () => cb(null, uploadReply(got)));
    }, 20);
  }
  chat(call: grpc.ServerDuplexStream<Msg, unknown>) {
    call.on('data', (m: Msg) => call.write(chatReply(m)));
    call.on('end', () => call.end());
  }
}

interface Side {
  readonly mesh: Mesh;
  readonly log: Msg[];
}

function meshWithLog(config: Record<string, unknown>): Side {
  const log: Msg[] = [];
  const mesh = createMesh({
    env: false,
    config: config as never,
    telemetry: { metrics: true, accessLog: { sink: (line: string) => log.push(JSON.parse(line) as Msg) } },
  } as never);
  meshes.push(mesh);
  return { mesh, log };
}

/** A mesh server for test.Bytes (plaintext) and a mesh client with a channel to it. */
async function pair(
  serviceExtra: Record<string, unknown> = {},
  register: (server: MeshGrpcServer, handler: BytesHandler) => void = (server, handler) => server.addService(BytesService, handler),
): Promise<{ server: Side; client: Side; handler: BytesHandler; bytes: BytesClientInstance }> {
  const server = meshWithLog({ mesh: { serviceName: 'bytes', namespace: 'shop', security: { mtls: { mode: 'DISABLE' } } } });
  await server.mesh.ready();
  const grpcServer = server.mesh.grpc.server();
  servers.push(grpcServer);
  const handler = new BytesHandler();
  register(grpcServer, handler);
  const { port } = await grpcServer.listen(0, '127.0.0.1');
  const client = meshWithLog({ mesh: { serviceName: 'frontend' }, services: { bytes: { endpoints: [`127.0.0.1:${port}`], ...serviceExtra } } });
  await client.mesh.ready();
  const bytes = client.mesh.grpc.client(BytesClient, 'bytes', { idempotentMethods: [`/${SERVICE}/Unary`] }) as unknown as BytesClientInstance;
  clients.push(bytes);
  return { server, client, handler, bytes };
}

function unary(c: BytesClientInstance, req: Msg): Promise<Msg> {
  return new Promise((resolve, reject) => {
    c.unary!(req, (err: grpc.ServiceError | null, v: Msg) => (err ? reject(err) : resolve(v)));
  });
}

function download(c: BytesClientInstance, req: Msg): Promise<Msg[]> {
  const stream = c.download!(req) as grpc.ClientReadableStream<Msg>;
  const got: Msg[] = [];
  return new Promise((resolve, reject) => {
    stream.on('data', (m: Msg) => got.push(m));
    stream.on('error', reject);
    stream.on('end', () => resolve(got));
  });
}

/** A client stream; `write` yields between messages so concurrent uploads interleave. */
async function upload(c: BytesClientInstance, reqs: Msg[]): Promise<Msg> {
  let stream!: grpc.ClientWritableStream<Msg>;
  const done = new Promise<Msg>((resolve, reject) => {
    stream = c.upload!((err: grpc.ServiceError | null, v: Msg) => (err ? reject(err) : resolve(v))) as grpc.ClientWritableStream<Msg>;
  });
  for (const r of reqs) {
    stream.write(r);
    await new Promise((r) => setImmediate(r));
  }
  stream.end();
  return done;
}

async function chat(c: BytesClientInstance, reqs: Msg[]): Promise<Msg[]> {
  const stream = c.chat!() as grpc.ClientDuplexStream<Msg, Msg>;
  const got: Msg[] = [];
  const done = new Promise<Msg[]>((resolve, reject) => {
    stream.on('data', (m: Msg) => got.push(m));
    stream.on('error', reject);
    stream.on('end', () => resolve(got));
  });
  for (const r of reqs) {
    stream.write(r);
    await new Promise((r) => setImmediate(r));
  }
  stream.end();
  return done;
}

/** Access-log lines of `path`, as [bytes_received, bytes_sent], sorted. */
function sizesOf(log: Msg[], path: string): [number, number][] {
  return log
    .filter((l) => l.path === `/${SERVICE}/${path}`)
    .map((l) => [l.bytes_received as number, l.bytes_sent as number] as [number, number])
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
}

/** The sum of a histogram's `_sum` samples for one reporter. */
async function histogramSum(m: Mesh, name: string, reporter: 'source' | 'destination'): Promise<number> {
  const text = await m.metricsRegistry!.metrics();
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}_sum{`) && l.includes(`reporter="${reporter}"`))
    .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

test('unary, server-streaming, client-streaming and bidi calls record their wire bytes on both sides', async () => {
  const { server, client, bytes } = await pair();
  const uReq = { text: 'hello', pad: 40 };
  expect(await unary(bytes, uReq)).toEqual(unaryReply(uReq));
  const dReq = { text: 'abc', count: 4 };
  expect(await download(bytes, dReq)).toEqual(downloadReplies(dReq));
  const upReqs = [{ text: 'one' }, { text: 'two-two' }, { text: 'three-three-three' }];
  expect(await upload(bytes, upReqs)).toEqual(uploadReply(upReqs));
  const chatReqs = [{ text: 'a' }, { text: 'bb' }, { text: 'ccc' }, { text: 'dddd' }, { text: 'eeeee' }];
  expect(await chat(bytes, chatReqs)).toEqual(chatReqs.map(chatReply));

  const expected = {
    Unary: [wire(uReq), wire(unaryReply(uReq))],
    Download: [wire(dReq), wire(...downloadReplies(dReq))],
    Upload: [wire(...upReqs), wire(uploadReply(upReqs))],
    Chat: [wire(...chatReqs), wire(...chatReqs.map(chatReply))],
  };
  // The server's record is written as its status goes out, possibly before the client's: wait for both.
  await expect.poll(() => server.log.length, { timeout: 10_000 }).toBe(4);
  for (const [path, sizes] of Object.entries(expected)) {
    expect(sizesOf(client.log, path), `source ${path}`).toEqual([sizes]);
    expect(sizesOf(server.log, path), `destination ${path}`).toEqual([sizes]);
  }
  expect(client.log.every((l) => l.reporter === 'source')).toBe(true);
  expect(server.log.every((l) => l.reporter === 'destination')).toBe(true);

  // The same numbers reach Istio's histograms.
  const requestTotal = Object.values(expected).reduce((n, [req]) => n + req!, 0);
  const responseTotal = Object.values(expected).reduce((n, [, res]) => n + res!, 0);
  expect(await histogramSum(client.mesh, 'istio_request_bytes', 'source')).toBe(requestTotal);
  expect(await histogramSum(client.mesh, 'istio_response_bytes', 'source')).toBe(responseTotal);
  expect(await histogramSum(server.mesh, 'istio_request_bytes', 'destination')).toBe(requestTotal);
  expect(await histogramSum(server.mesh, 'istio_response_bytes', 'destination')).toBe(responseTotal);
});

test('proto messages: the protobuf encoding\'s length plus 5 per message, on both sides', async () => {
  const server = meshWithLog({ mesh: { serviceName: 'echo', security: { mtls: { mode: 'DISABLE' } } } });
  await server.mesh.ready();
  const grpcServer = server.mesh.grpc.server();
  servers.push(grpcServer);
  const reply = (text: string, i = 0) => ({ text: `${text}!`, replica: 'r1', timeoutMs: 7 + i, metadata: 'meta' });
  grpcServer.addService(EchoClient.service, {
    get: (call: grpc.ServerUnaryCall<{ text: string }, unknown>, cb: grpc.sendUnaryData<unknown>) => cb(null, reply(call.request.text)),
    watch: (call: grpc.ServerWritableStream<{ text: string; count: number }, unknown>) => {
      for (let i = 0; i < call.request.count; i++) call.write(reply(call.request.text, i));
      call.end();
    },
  });
  const { port } = await grpcServer.listen(0, '127.0.0.1');
  const client = meshWithLog({ mesh: { serviceName: 'frontend' }, services: { echo: { endpoints: [`127.0.0.1:${port}`] } } });
  const echo = client.mesh.grpc.client(EchoClient, 'echo') as unknown as BytesClientInstance;
  clients.push(echo);

  const getReq = { text: 'a protobuf string' };
  await new Promise((resolve, reject) => echo.get!(getReq, (err: Error | null, v: unknown) => (err ? reject(err) : resolve(v))));
  const watchReq = { text: 'w', count: 3 };
  const stream = echo.watch!(watchReq) as grpc.ClientReadableStream<unknown>;
  stream.on('data', () => undefined);
  await new Promise((resolve, reject) => {
    stream.on('end', resolve);
    stream.on('error', reject);
  });

  // Encoded here by protobufjs itself, as proto-loader's serializers do (fromObject, then encode).
  const root = protobuf.loadSync(fileURLToPath(new URL('../helpers/grpc/echo.proto', import.meta.url)));
  const encoded = (type: string, v: object) => {
    const t = root.lookupType(`proxyless.test.${type}`);
    return t.encode(t.fromObject(v)).finish().length + 5;
  };
  const expected: Record<string, [number, number]> = {
    '/proxyless.test.Echo/Get': [encoded('EchoRequest', getReq), encoded('EchoReply', reply(getReq.text))],
    '/proxyless.test.Echo/Watch': [encoded('EchoRequest', watchReq), [0, 1, 2].reduce((n, i) => n + encoded('EchoReply', reply('w', i)), 0)],
  };
  await expect.poll(() => server.log.length, { timeout: 10_000 }).toBe(2);
  for (const side of [client.log, server.log]) {
    for (const [path, sizes] of Object.entries(expected)) {
      expect(side.filter((l) => l.path === path).map((l) => [l.bytes_received, l.bytes_sent])).toEqual([sizes]);
    }
  }
});

test('concurrent calls on one channel each record their own bytes', async () => {
  const { server, client, bytes } = await pair();
  const unaries = Array.from({ length: 16 }, (_, i) => ({ text: 'u'.repeat(i * 13 + 1), pad: i * 7, delayMs: (16 - i) * 3 }));
  const downloads = Array.from({ length: 4 }, (_, i) => ({ text: 'd'.repeat(i + 1), count: 2 + i * 3 }));
  const uploads = Array.from({ length: 4 }, (_, i) => Array.from({ length: 20 + i * 3 }, (_, j) => ({ text: `${i}`.repeat(j * 11 + i + 1) })));
  const chats = Array.from({ length: 3 }, (_, i) => Array.from({ length: 3 + i }, (_, j) => ({ text: `c${i}`.repeat(j + i * 5 + 1) })));
  await Promise.all([
    ...unaries.map((r) => unary(bytes, r)),
    ...downloads.map((r) => download(bytes, r)),
    ...uploads.map((rs) => upload(bytes, rs)),
    ...chats.map((rs) => chat(bytes, rs)),
  ]);

  const sorted = (pairs: [number, number][]) => pairs.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const expected = {
    Unary: sorted(unaries.map((r) => [wire(r), wire(unaryReply(r))])),
    Download: sorted(downloads.map((r) => [wire(r), wire(...downloadReplies(r))])),
    Upload: sorted(uploads.map((rs) => [wire(...rs), wire(uploadReply(rs))])),
    Chat: sorted(chats.map((rs) => [wire(...rs), wire(...rs.map(chatReply))])),
  };
  await expect.poll(() => server.log.length, { timeout: 10_000 }).toBe(27);
  for (const [path, sizes] of Object.entries(expected)) {
    expect(sizesOf(client.log, path), `source ${path}`).toEqual(sizes);
    expect(sizesOf(server.log, path), `destination ${path}`).toEqual(sizes);
  }
});

test('a retried call counts one copy of its request and the answer the caller got; each attempt is its own server-side call', async () => {
  const { server, client, handler, bytes } = await pair({ retries: { attempts: 2, backoff: { baseInterval: '1ms' } } });
  const req = { text: 'retry-me', pad: 25 };
  handler.failOnce.add(req.text);
  expect(await unary(bytes, req)).toEqual(unaryReply(req));
  await expect.poll(() => server.log.length, { timeout: 10_000 }).toBe(2);
  expect(client.log).toHaveLength(1);
  expect(client.log[0]).toMatchObject({ attempts: 2, grpc_status: 0, bytes_received: wire(req), bytes_sent: wire(unaryReply(req)) });
  // The refused attempt read the request and answered with a status only.
  expect(server.log.map((l) => [l.grpc_status, l.bytes_received, l.bytes_sent]).sort()).toEqual(
    [
      [0, wire(req), wire(unaryReply(req))],
      [grpc.status.UNAVAILABLE, wire(req), 0],
    ].sort(),
  );
});

test('a hedged call counts one copy of its request and only the winning attempt\'s answer', async () => {
  const { client, handler, bytes } = await pair({ hedging: { delay: '30ms' } });
  // The first attempt waits long; the hedge sent 30 ms later answers first.
  const req = { text: 'hedge', pad: 9 };
  handler.slowOnce.add(req.text);
  expect(await unary(bytes, req)).toEqual(unaryReply(req));
  expect(client.log).toHaveLength(1);
  expect(client.log[0]).toMatchObject({ attempts: 2, bytes_received: wire(req), bytes_sent: wire(unaryReply(req)) });
});

test('a service registered on the grpc-js server underneath (as Nest\'s transport does) is measured too', async () => {
  const { server, bytes } = await pair({}, (s, handler) => s.server.addService(BytesService, handler as never));
  const req = { text: 'direct', pad: 3 };
  expect(await unary(bytes, req)).toEqual(unaryReply(req));
  const reqs = [{ text: 'x' }, { text: 'yy' }];
  expect(await chat(bytes, reqs)).toEqual(reqs.map(chatReply));
  await expect.poll(() => server.log.length, { timeout: 10_000 }).toBe(2);
  expect(sizesOf(server.log, 'Unary')).toEqual([[wire(req), wire(unaryReply(req))]]);
  expect(sizesOf(server.log, 'Chat')).toEqual([[wire(...reqs), wire(...reqs.map(chatReply))]]);
});
