/**
 * The mesh's gRPC client end to end: real grpc-js servers on port 0, a
 * real grpc-js client made by mesh.grpc.client(), the mesh's own
 * discovery, pickers, retries, deadlines and telemetry in between.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { afterEach, expect, test } from 'vitest';
import { createMesh, type Mesh, type MeshConfigInput, withDeadline } from '../../src/index.js';
import {
  callUnary,
  EchoClient,
  type EchoClientInstance,
  type EchoReplica,
  type EchoReply,
  errorOf,
  startEchoReplica,
} from '../helpers/grpc/echo-replicas.js';
import { startTestSdk } from '../unit/telemetry/tracing/sdk-setup.js';

const meshes: Mesh[] = [];
const replicas: EchoReplica[] = [];
const children: ChildProcess[] = [];
const REPLICA = fileURLToPath(new URL('../helpers/grpc/replica-process.ts', import.meta.url));

async function replicaProcess(name: string): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(REPLICA, [name], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  children.push(child);
  const [msg] = (await once(child, 'message')) as [{ port: number }];
  return { child, port: msg.port };
}

afterEach(async () => {
  await Promise.all(meshes.splice(0).map((m) => m.destroy()));
  for (const r of replicas.splice(0)) r.server.forceShutdown();
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

async function start(names: string[]): Promise<EchoReplica[]> {
  const started = await Promise.all(names.map((n) => startEchoReplica(n)));
  replicas.push(...started);
  return started;
}

function meshFor(config: MeshConfigInput, extra: Parameters<typeof createMesh>[0] = {}): Mesh {
  const m = createMesh({ env: false, config, ...extra });
  meshes.push(m);
  return m;
}

function echoService(rs: EchoReplica[], extra: Record<string, unknown> = {}): MeshConfigInput {
  return { services: { echo: { endpoints: rs.map((r) => `127.0.0.1:${r.port}`), ...extra } } } as MeshConfigInput;
}

function clientOf(m: Mesh): EchoClientInstance {
  return m.grpc.client(EchoClient, 'echo') as unknown as EchoClientInstance;
}

test('unary calls are balanced across three replicas by the mesh picker', async () => {
  const rs = await start(['a', 'b', 'c']);
  const m = meshFor(echoService(rs, { loadBalancer: { policy: 'round-robin' } }));
  const client = clientOf(m);
  const seen = new Map<string, number>();
  for (let i = 0; i < 30; i++) {
    const reply = await callUnary(client, 'get', { text: `hi-${i}` });
    expect(reply.text).toBe(`hi-${i}`);
    seen.set(reply.replica, (seen.get(reply.replica) ?? 0) + 1);
  }
  expect([...seen.keys()].sort()).toEqual(['a', 'b', 'c']);
  for (const n of seen.values()) expect(n).toBe(10);
  // The endpoint pin is the balancer's business: it never reaches the server.
  const reply = await callUnary(client, 'get', { text: 'x' });
  expect(Object.keys(JSON.parse(reply.metadata) as object)).not.toContain('x-proxyless-endpoint');
});

test('a replica process SIGKILLed mid-load fails no idempotent call: its calls go to the others', async () => {
  const procs = await Promise.all(['a', 'b', 'c'].map((n) => replicaProcess(n)));
  const m = meshFor({ services: { echo: { endpoints: procs.map((p) => `127.0.0.1:${p.port}`) } } } as MeshConfigInput);
  const client = clientOf(m);
  const failures: string[] = [];
  const served = new Map<string, number>();
  let next = 0;
  await Promise.all(
    Array.from({ length: 20 }, async () => {
      while (next < 900) {
        const i = next++;
        if (i === 300) procs[1]!.child.kill('SIGKILL');
        try {
          const reply = await callUnary(client, 'get', { text: String(i) });
          served.set(reply.replica, (served.get(reply.replica) ?? 0) + 1);
        } catch (err) {
          failures.push((err as Error).message);
        }
      }
    }),
  );
  expect(failures).toEqual([]);
  expect((served.get('a') ?? 0) + (served.get('c') ?? 0)).toBeGreaterThan(600);
}, 60_000);

test('UNAVAILABLE is retried for methods the proto marks idempotent, not for the others', async () => {
  const rs = await start(['a', 'b', 'c']);
  const m = meshFor(echoService(rs, { retries: { attempts: 2, backoff: { baseInterval: '1ms' } } }));
  const client = clientOf(m);
  const total = (method: string) => rs.reduce((n, r) => n + (r.calls.get(method) ?? 0), 0);

  const get = await errorOf(callUnary(client, 'get', { failWith: grpc.status.UNAVAILABLE }));
  expect(get.code).toBe(grpc.status.UNAVAILABLE);
  expect(total('Get')).toBe(3);

  const put = await errorOf(callUnary(client, 'put', { failWith: grpc.status.UNAVAILABLE }));
  expect(put.code).toBe(grpc.status.UNAVAILABLE);
  expect(total('Put')).toBe(1);

  // A status the classifier calls the caller's business is not retried either.
  const denied = await errorOf(callUnary(client, 'get', { failWith: grpc.status.PERMISSION_DENIED }));
  expect(denied.code).toBe(grpc.status.PERMISSION_DENIED);
  expect(total('Get')).toBe(4);
});

test('idempotentMethods makes a method retryable that the proto does not mark', async () => {
  const rs = await start(['a', 'b']);
  const m = meshFor(echoService(rs, { retries: { attempts: 1, backoff: { baseInterval: '1ms' } } }));
  const client = m.grpc.client(EchoClient, 'echo', { idempotentMethods: ['/proxyless.test.Echo/Put'] }) as unknown as EchoClientInstance;
  await errorOf(callUnary(client, 'put', { failWith: grpc.status.UNAVAILABLE }));
  expect(rs.reduce((n, r) => n + (r.calls.get('Put') ?? 0), 0)).toBe(2);
});

test('the deadline reaches the server as grpc-timeout: the caller\'s, the route\'s, or the inbound request\'s, whichever is nearest', async () => {
  const [r] = await start(['a']);
  const m = meshFor(echoService([r!], { timeout: '1500ms' }));
  const client = clientOf(m);

  const routeOnly = await callUnary(client, 'get', { text: 'x' });
  expect(routeOnly.timeoutMs).toBeGreaterThan(0);
  expect(routeOnly.timeoutMs).toBeLessThanOrEqual(1500);

  const caller = await callUnary(client, 'get', { text: 'x' }, { deadline: Date.now() + 700 });
  expect(caller.timeoutMs).toBeGreaterThan(0);
  expect(caller.timeoutMs).toBeLessThanOrEqual(700);

  const inherited = await withDeadline(400, () => callUnary(client, 'get', { text: 'x' }));
  expect(inherited.timeoutMs).toBeGreaterThan(0);
  expect(inherited.timeoutMs).toBeLessThanOrEqual(400);

  const late = await errorOf(callUnary(client, 'get', { delayMs: 2_000 }, { deadline: Date.now() + 150 }));
  expect(late.code).toBe(grpc.status.DEADLINE_EXCEEDED);
});

test('server streaming and client streaming calls go through the mesh', async () => {
  const rs = await start(['a']);
  const m = meshFor(echoService(rs));
  const client = clientOf(m);
  const stream = (client.watch as (r: unknown) => grpc.ClientReadableStream<EchoReply>)({ text: 's', count: 5 });
  const texts: string[] = [];
  for await (const reply of stream) texts.push((reply as EchoReply).text);
  expect(texts).toEqual(['s-0', 's-1', 's-2', 's-3', 's-4']);

  const collected = await new Promise<EchoReply>((resolve, reject) => {
    const call = (client.collect as (cb: (e: Error | null, v: EchoReply) => void) => grpc.ClientWritableStream<unknown>)((err, v) =>
      err ? reject(err) : resolve(v),
    );
    for (const t of ['x', 'y', 'z']) call.write({ text: t });
    call.end();
  });
  expect(collected.text).toBe('x,y,z');
});

test('a service the mesh does not know ends the call with UNIMPLEMENTED and the mesh error code in the trailers', async () => {
  const m = meshFor({ services: {} });
  const client = m.grpc.client(EchoClient, 'nowhere') as unknown as EchoClientInstance;
  const err = await errorOf(callUnary(client, 'get', { text: 'x' }));
  expect(err.code).toBe(grpc.status.UNIMPLEMENTED);
  expect(err.details).toContain('nowhere');
  expect(err.metadata.get('mesh-error-code')).toEqual(['MESH_NO_ROUTE']);
});

test('an endpoint nobody listens on is a connect failure: retried elsewhere even for a non-idempotent method', async () => {
  const [live] = await start(['a']);
  const dead = await startEchoReplica('dead');
  const deadPort = dead.port;
  dead.server.forceShutdown();
  const m = meshFor({
    services: {
      echo: { endpoints: [`127.0.0.1:${deadPort}`, `127.0.0.1:${live!.port}`], loadBalancer: { policy: 'round-robin' } },
    },
  } as MeshConfigInput);
  const client = clientOf(m);
  for (let i = 0; i < 6; i++) expect((await callUnary(client, 'put', { text: 'x' })).replica).toBe('a');
});

test('a fault abort with a gRPC status ends the call with that status and message, counted as FI', async () => {
  const rs = await start(['a']);
  const m = meshFor(echoService(rs, { routes: [{ route: [{ destination: {} }], fault: { abort: { percentage: 100, grpcStatus: 'RESOURCE_EXHAUSTED' } } }] }), {
    telemetry: { metrics: true },
  } as never);
  const err = await errorOf(callUnary(clientOf(m), 'get', { text: 'x' }));
  expect(err.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
  expect(err.details).toBe('fault filter abort');
  const text = await m.metricsRegistry!.metrics();
  const line = text.split('\n').find((l) => l.startsWith('istio_requests_total{') && l.includes('response_flags="FI"'));
  expect(line).toContain('grpc_response_status="8"');
});

test('Istio request metrics carry request_protocol="grpc" and grpc_response_status', async () => {
  const rs = await start(['a']);
  const m = meshFor(echoService(rs), { telemetry: { metrics: true } } as never);
  const client = clientOf(m);
  await callUnary(client, 'get', { text: 'x' });
  await errorOf(callUnary(client, 'put', { failWith: grpc.status.NOT_FOUND }));
  const text = await m.metricsRegistry!.metrics();
  const lines = text.split('\n').filter((l) => l.startsWith('istio_requests_total{'));
  expect(lines.some((l) => l.includes('request_protocol="grpc"') && l.includes('grpc_response_status="0"'))).toBe(true);
  expect(lines.some((l) => l.includes('request_protocol="grpc"') && l.includes('grpc_response_status="5"'))).toBe(true);
});

test('hedging: an idempotent call stuck on a slow replica is answered by a backup on another; a non-idempotent one is not hedged', async () => {
  const slow = await startEchoReplica('slow', grpc.ServerCredentials.createInsecure(), 1_500);
  const [fast] = await start(['fast']);
  replicas.push(slow);
  const m = meshFor(echoService([slow, fast!], { loadBalancer: { policy: 'round-robin' }, hedging: { delay: '40ms' } }));
  const client = clientOf(m);
  const gets = await Promise.all(Array.from({ length: 6 }, (_, i) => callUnary(client, 'get', { text: String(i) })));
  expect(gets.map((r) => r.replica)).toEqual(Array(6).fill('fast'));
  expect(slow.calls.get('Get')).toBeGreaterThan(0);
  const puts = await Promise.all(Array.from({ length: 4 }, (_, i) => callUnary(client, 'put', { text: String(i) })));
  expect(puts.map((r) => r.replica).sort()).toEqual(['fast', 'fast', 'slow', 'slow']);
});

test('trace context goes out in the metadata of each attempt, under the caller\'s span', async () => {
  const sdk = startTestSdk();
  try {
    const rs = await start(['a']);
    const m = meshFor(echoService(rs), { telemetry: { tracing: true } } as never);
    const client = clientOf(m);
    const reply = await callUnary(client, 'get', { text: 'x' });
    const sent = JSON.parse(reply.metadata) as Record<string, string>;
    expect(sent.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const span = sdk.spans().find((s) => s.kind === 2);
    expect(span).toBeDefined();
    expect(sent.traceparent).toContain(span!.spanContext().traceId);
    expect(span!.attributes['rpc.system']).toBe('grpc');
  } finally {
    await sdk.shutdown();
  }
});

test('a caller cancelling a streamed response ends it with CANCELLED and leaves the endpoint free', async () => {
  const rs = await start(['a']);
  const m = meshFor(echoService(rs));
  const client = clientOf(m);
  const stream = (client.watch as (r: unknown) => grpc.ClientReadableStream<EchoReply>)({ text: 's', count: 100_000 });
  const first = await new Promise<EchoReply>((resolve) => stream.once('data', resolve));
  expect(first.text).toBe('s-0');
  const ended = new Promise<grpc.ServiceError>((resolve) => stream.on('error', resolve));
  stream.cancel();
  expect((await ended).code).toBe(grpc.status.CANCELLED);
  const upstream = m.destinations.get('echo')!.upstreams[0]!;
  expect(upstream.inFlight).toBe(0);
  // The channel still serves the next call.
  expect((await callUnary(client, 'get', { text: 'after' })).text).toBe('after');
});
