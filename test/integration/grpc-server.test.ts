/**
 * mesh.grpc.server() with real grpc-js clients, real TLS, port 0: identity
 * in the handler over mTLS, the Security modes, JWT and authorization as
 * gRPC statuses, method decorators, the deadline context, metrics, and the
 * drain.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { connect } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import {
  Authorize,
  CHANNELS,
  Idempotent,
  type Mesh,
  MeshError,
  type MeshGrpcServer,
  meshContextOf,
  RateLimit,
  Timeout,
} from '../../src/index.js';
import { currentDeadline, remainingMs } from '../../src/resilience/deadline-context.js';
import { jsonBytes as json, jsonMethod, parseJson as parse } from '../helpers/grpc/json-method.js';
import { mountCertificates } from '../helpers/rotating-certs.js';
import { callUnary, GREETER, GreeterService, grpcWorkspace, type Workspace } from './grpc-server-fixture.js';

type Callback = grpc.sendUnaryData<unknown>;
type Call = grpc.ServerUnaryCall<unknown, unknown>;

let ws: Workspace;
beforeAll(async () => {
  ws = await grpcWorkspace();
});
afterEach(() => ws.cleanup());
afterAll(() => ws.close());

/** What a handler saw of its caller and its deadline. */
function seen(call: Call) {
  const ctx = meshContextOf(call);
  const d = currentDeadline();
  return {
    peer: ctx?.peer.principal ?? null,
    authenticated: ctx?.peer.authenticated ?? null,
    user: ctx?.requestPrincipal ?? null,
    role: (ctx?.claims?.role as string | undefined) ?? null,
    budget: d === undefined ? null : remainingMs(d),
  };
}

class Greeter {
  release: (() => void) | undefined;
  started: (() => void) | undefined;

  hello(call: Call, cb: Callback) {
    cb(null, seen(call));
  }
  secret(_call: Call, cb: Callback) {
    cb(null, 'never');
  }
  slowBudget: number | null = null;
  slow(call: Call, cb: Callback) {
    const budget = seen(call).budget;
    this.slowBudget = budget;
    this.started?.();
    this.release = () => cb(null, { budget });
  }
  limited(_call: Call, cb: Callback) {
    cb(null, 'ok');
  }
  whoami(call: Call, cb: Callback) {
    if ((call.request as { fail?: boolean }).fail) return cb(new MeshError('MESH_CIRCUIT_OPEN', 'circuit open for inventory') as never, null);
    cb(null, seen(call));
  }
}

// Decorators applied as calls: this repository's tests run without a decorator transform
// (test/unit/server/grpc/ runs the same decorators as syntax, in both modes).
decorate(Greeter, 'slow', Timeout(150));
decorate(Greeter, 'limited', RateLimit({ maxTokens: 2, tokensPerFill: 2, fillInterval: 60_000 }), Idempotent());
decorate(Greeter, 'whoami', Authorize({ requestPrincipals: ['*'], claims: { role: 'admin' } }));

function decorate(cls: { prototype: object }, name: string, ...decorators: ((p: object, n: string, d: PropertyDescriptor) => void)[]): void {
  const descriptor = Object.getOwnPropertyDescriptor(cls.prototype, name)!;
  for (const d of decorators) d(cls.prototype, name, descriptor);
}

async function serve(m: Mesh, handler = new Greeter()): Promise<{ server: MeshGrpcServer; port: number; handler: Greeter }> {
  const server = m.grpc.server();
  ws.servers.push(server);
  server.addService(GreeterService, handler);
  const { port } = await server.listen(0, '127.0.0.1');
  return { server, port, handler };
}

describe('mTLS modes', () => {
  test('STRICT: the handler sees the caller SPIFFE identity; a plaintext client is refused', async () => {
    const { port } = await serve(await ws.backend('STRICT'));
    const reply = await callUnary(ws.client(port, await ws.issue('frontend')), 'Hello');
    expect(reply.code).toBe(grpc.status.OK);
    expect(reply.value).toMatchObject({ peer: 'cluster.local/ns/shop/sa/frontend', authenticated: true });
    const plain = await callUnary(ws.client(port), 'Hello', {}, { deadlineMs: 5_000 });
    expect(plain.code).toBe(grpc.status.UNAVAILABLE);
    // TLS without a client certificate is refused too.
    const anonymous = await callUnary(ws.client(port, 'server-only'), 'Hello', {}, { deadlineMs: 5_000 });
    expect(anonymous.code).toBe(grpc.status.UNAVAILABLE);
  });

  test('PERMISSIVE: mTLS and plaintext on one port, told apart per connection', async () => {
    const { port } = await serve(await ws.backend('PERMISSIVE'));
    const secure = await callUnary(ws.client(port, await ws.issue('frontend')), 'Hello');
    expect(secure.value).toMatchObject({ peer: 'cluster.local/ns/shop/sa/frontend', authenticated: true });
    const plain = await callUnary(ws.client(port), 'Hello');
    expect(plain.code).toBe(grpc.status.OK);
    expect(plain.value).toMatchObject({ peer: null, authenticated: false });
  });

  test('a per-port override applies to the port it names', async () => {
    // The default is STRICT; a port-level PERMISSIVE for the port picked here.
    const probe = await serve(await ws.backend('STRICT'));
    const port = probe.port;
    await ws.cleanup();
    const m = await ws.backend('STRICT', { portLevelMtls: { [String(port)]: { mode: 'PERMISSIVE' } } });
    const server = m.grpc.server();
    ws.servers.push(server);
    server.addService(GreeterService, new Greeter());
    await server.listen(port, '127.0.0.1');
    expect((await callUnary(ws.client(port), 'Hello')).code).toBe(grpc.status.OK);
  });
});

/** The serial number of the certificate the server presents to a new mTLS connection. */
async function servedSerial(port: number, client: { key: string; cert: string }, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ...client, ca, ALPNProtocols: ['h2'], checkServerIdentity: () => undefined }, () => {
      resolve(socket.getPeerX509Certificate()!.serialNumber.toLowerCase());
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

test('rotation: new connections get the new certificate; a connection already open keeps serving', async () => {
  const mounted = await mountCertificates(ws.ca, 'spiffe://cluster.local/ns/shop/sa/greeter');
  try {
    const m = await ws.backend('STRICT', { certificates: { provider: 'files', dir: mounted.dir } });
    const { port } = await serve(m);
    const identity = await ws.issue('frontend');
    const before = ws.client(port, identity);
    expect((await callUnary(before, 'Hello')).code).toBe(grpc.status.OK);
    expect(await servedSerial(port, identity, ws.rootPem)).toBe(mounted.serials[0]!.toLowerCase());
    await mounted.rotate();
    await vi.waitFor(async () => expect(await servedSerial(port, identity, ws.rootPem)).toBe(mounted.serials[1]!.toLowerCase()), { timeout: 15_000 });
    expect((await callUnary(before, 'Hello')).code).toBe(grpc.status.OK);
    expect((await callUnary(ws.client(port, identity), 'Hello')).value).toMatchObject({ peer: 'cluster.local/ns/shop/sa/frontend' });
  } finally {
    mounted.remove();
  }
});

describe('authentication and authorization', () => {
  test('a DENY AuthorizationPolicy on /package.Service/Method answers PERMISSION_DENIED', async () => {
    const { port } = await serve(await ws.backend('STRICT'));
    const reply = await callUnary(ws.client(port, await ws.issue('frontend')), 'Secret');
    expect(reply.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(reply.details).toContain('shop/no-secrets');
  });

  test('JWT from metadata: a bad token and a missing one get UNAUTHENTICATED, a good one shows its claims', async () => {
    const { port } = await serve(await ws.backend('STRICT'));
    const client = ws.client(port, await ws.issue('frontend'));
    const bad = await callUnary(client, 'Whoami', {}, { metadata: { authorization: 'Bearer not.a.jwt' } });
    expect(bad.code).toBe(grpc.status.UNAUTHENTICATED);
    const missing = await callUnary(client, 'Whoami');
    expect(missing.code).toBe(grpc.status.UNAUTHENTICATED);
    const token = await ws.token({ role: 'admin' });
    const good = await callUnary(client, 'Whoami', {}, { metadata: { authorization: `Bearer ${token}` } });
    expect(good.code).toBe(grpc.status.OK);
    expect(good.value).toMatchObject({ peer: 'cluster.local/ns/shop/sa/frontend', user: 'https://issuer.example/alice', role: 'admin' });
    // A verified token without the claim @Authorize asks for is a denial, not an authentication failure.
    const guest = await callUnary(client, 'Whoami', {}, { metadata: { authorization: `Bearer ${await ws.token({ role: 'guest' })}` } });
    expect(guest.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(guest.details).toContain('@Authorize on /test.Greeter/Whoami');
  });

  test('@Authorize on a class: principals and namespaces', async () => {
    class OnlyFrontend extends Greeter {
      override hello(call: Call, cb: Callback) {
        super.hello(call, cb);
      }
    }
    Authorize({ namespaces: ['shop'] })(OnlyFrontend);
    decorate(OnlyFrontend, 'hello', Authorize({ principals: ['cluster.local/ns/shop/sa/frontend'] }));
    const { port } = await serve(await ws.backend('STRICT'), new OnlyFrontend());
    expect((await callUnary(ws.client(port, await ws.issue('frontend')), 'Hello')).code).toBe(grpc.status.OK);
    expect((await callUnary(ws.client(port, await ws.issue('reports')), 'Hello')).code).toBe(grpc.status.PERMISSION_DENIED);
    // The class-level rule: another namespace is refused on every method.
    expect((await callUnary(ws.client(port, await ws.issue('frontend', 'other')), 'Limited')).code).toBe(grpc.status.PERMISSION_DENIED);
    expect((await callUnary(ws.client(port, await ws.issue('frontend')), 'Limited')).code).toBe(grpc.status.OK);
  });

  test('@Authorize refusals are published on proxyless:denied and counted in proxyless_inbound_denials_total, as policy denials are', async () => {
    const denials: unknown[] = [];
    const onDenied = (msg: unknown) => denials.push(msg);
    subscribe(CHANNELS.denied, onDenied);
    try {
      const m = await ws.backend('STRICT');
      const { port } = await serve(m);
      const client = ws.client(port, await ws.issue('frontend'));
      // The mesh's DENY policy, then the method's rule: a token without the claim, and no token at all.
      expect((await callUnary(client, 'Secret')).code).toBe(grpc.status.PERMISSION_DENIED);
      const guest = await ws.token({ role: 'guest' });
      expect((await callUnary(client, 'Whoami', {}, { metadata: { authorization: `Bearer ${guest}` } })).code).toBe(grpc.status.PERMISSION_DENIED);
      expect((await callUnary(client, 'Whoami')).code).toBe(grpc.status.UNAUTHENTICATED);
      const admin = await ws.token({ role: 'admin' });
      expect((await callUnary(client, 'Whoami', {}, { metadata: { authorization: `Bearer ${admin}` } })).code).toBe(grpc.status.OK);
      const rule = `@Authorize /${GREETER}/Whoami`;
      expect(denials).toEqual([
        { code: 'MESH_PERMISSION_DENIED', policy: 'shop/no-secrets' },
        { code: 'MESH_PERMISSION_DENIED', policy: rule },
        { code: 'MESH_UNAUTHENTICATED', policy: rule },
      ]);
      const lines = (await m.metricsRegistry!.metrics()).split('\n').filter((l) => l.startsWith('proxyless_inbound_denials_total{'));
      expect(lines.sort()).toEqual(
        [
          'proxyless_inbound_denials_total{code="MESH_PERMISSION_DENIED",policy="shop/no-secrets"} 1',
          `proxyless_inbound_denials_total{code="MESH_PERMISSION_DENIED",policy="${rule}"} 1`,
          `proxyless_inbound_denials_total{code="MESH_UNAUTHENTICATED",policy="${rule}"} 1`,
        ].sort(),
      );
    } finally {
      unsubscribe(CHANNELS.denied, onDenied);
    }
  });

  test('a MeshError from a handler answers with its mapped status and code', async () => {
    const { port } = await serve(await ws.backend('STRICT'));
    const token = await ws.token({ role: 'admin' });
    const reply = await callUnary(ws.client(port, await ws.issue('frontend')), 'Whoami', { fail: true }, { metadata: { authorization: `Bearer ${token}` } });
    expect(reply.code).toBe(new MeshError('MESH_CIRCUIT_OPEN', '').grpcStatus);
    expect(reply.trailers?.get('mesh-error-code')).toEqual(['MESH_CIRCUIT_OPEN']);
  });
});

describe('limits and deadlines', () => {
  test('@RateLimit: past the bucket, RESOURCE_EXHAUSTED; @Idempotent declares the method', async () => {
    const m = await ws.backend('PERMISSIVE');
    const { port } = await serve(m);
    const client = ws.client(port);
    const codes = [];
    for (let i = 0; i < 3; i++) codes.push((await callUnary(client, 'Limited')).code);
    expect(codes).toEqual([grpc.status.OK, grpc.status.OK, grpc.status.RESOURCE_EXHAUSTED]);
    expect(m.grpc.methods.isIdempotent(`/${GREETER}/Limited`)).toBe(true);
    expect(m.grpc.methods.isIdempotent(`/${GREETER}/Hello`)).toBe(false);
  });

  test("grpc-timeout becomes the handler's deadline context; @Timeout caps it and ends the call", async () => {
    const { port, handler } = await serve(await ws.backend('PERMISSIVE'));
    const client = ws.client(port);
    const hello = await callUnary(client, 'Hello', {}, { deadlineMs: 5_000 });
    const budget = (hello.value as { budget: number }).budget;
    expect(budget).toBeGreaterThan(0);
    expect(budget).toBeLessThanOrEqual(5_000);
    expect((await callUnary(client, 'Hello')).value).toMatchObject({ budget: null });
    // @Timeout(150) is shorter than the caller's 5 s: the handler's budget is the cap, and the call ends at it.
    const started = new Promise<void>((resolve) => {
      handler.started = resolve;
    });
    const slow = callUnary(client, 'Slow', {}, { deadlineMs: 5_000 });
    await started;
    const reply = await slow;
    expect(reply.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    expect(reply.details).toContain('@Timeout of 150 ms');
    expect(handler.slowBudget).toBeGreaterThan(0);
    expect(handler.slowBudget).toBeLessThanOrEqual(150);
  });
});

test('streaming calls: the handler sees its caller and deadline; a MeshError on the stream maps to its status', async () => {
  const method = (name: string, requestStream: boolean, responseStream: boolean) => jsonMethod('test.Streams', name, requestStream, responseStream);
  const Streams = { Count: method('Count', false, true), Sum: method('Sum', true, false), Fail: method('Fail', false, true) };
  const m = await ws.backend('STRICT');
  const server = m.grpc.server();
  ws.servers.push(server);
  server.addService(Streams, {
    Count(call: grpc.ServerWritableStream<{ n: number }, unknown>) {
      for (let i = 0; i < call.request.n; i++) call.write({ i, peer: meshContextOf(call)?.peer.principal, budget: currentDeadline() !== undefined });
      call.end();
    },
    Sum(call: grpc.ServerReadableStream<{ n: number }, unknown>, cb: Callback) {
      let sum = 0;
      call.on('data', (d: { n: number }) => {
        sum += d.n;
      });
      call.on('end', () => cb(null, { sum, peer: meshContextOf(call)?.peer.principal, budget: currentDeadline() !== undefined }));
    },
    Fail(call: grpc.ServerWritableStream<unknown, unknown>) {
      call.emit('error', new MeshError('MESH_RATE_LIMITED', 'downstream said slow down'));
    },
  });
  const { port } = await server.listen(0, '127.0.0.1');
  const client = ws.client(port, await ws.issue('frontend'));
  const deadline = () => ({ deadline: Date.now() + 5_000 });
  const counted = await new Promise<unknown[]>((resolve, reject) => {
    const out: unknown[] = [];
    const stream = client.makeServerStreamRequest('/test.Streams/Count', json, parse, { n: 3 }, new grpc.Metadata(), deadline());
    stream.on('data', (d) => out.push(d));
    stream.on('end', () => resolve(out));
    stream.on('error', reject);
  });
  expect(counted).toEqual([0, 1, 2].map((i) => ({ i, peer: 'cluster.local/ns/shop/sa/frontend', budget: true })));
  const summed = await new Promise<unknown>((resolve, reject) => {
    const stream = client.makeClientStreamRequest('/test.Streams/Sum', json, parse, new grpc.Metadata(), deadline(), (err, v) => (err ? reject(err) : resolve(v)));
    for (const n of [1, 2, 3]) stream.write({ n });
    stream.end();
  });
  expect(summed).toEqual({ sum: 6, peer: 'cluster.local/ns/shop/sa/frontend', budget: true });
  const failed = await new Promise<grpc.ServiceError>((resolve) => {
    const stream = client.makeServerStreamRequest('/test.Streams/Fail', json, parse, {}, new grpc.Metadata(), deadline());
    stream.on('data', () => undefined);
    stream.on('error', resolve);
  });
  expect(failed.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
  expect(failed.metadata.get('mesh-error-code')).toEqual(['MESH_RATE_LIMITED']);
});

test('metrics: Istio request metrics with grpc_response_status, per-route metrics labelled by the method', async () => {
  const m = await ws.backend('STRICT');
  const { port } = await serve(m);
  const client = ws.client(port, await ws.issue('frontend'));
  await callUnary(client, 'Hello');
  await callUnary(client, 'Secret');
  const text = await m.metricsRegistry!.metrics();
  const istio = text.split('\n').filter((l) => l.startsWith('istio_requests_total{'));
  const denied = istio.find((l) => l.includes('grpc_response_status="7"'));
  expect(denied).toContain('reporter="destination"');
  expect(denied).toContain('request_protocol="grpc"');
  expect(denied).toContain('source_principal="spiffe://cluster.local/ns/shop/sa/frontend"');
  expect(istio.some((l) => l.includes('grpc_response_status="0"') && l.includes('connection_security_policy="mutual_tls"'))).toBe(true);
  const routes = text.split('\n').filter((l) => l.startsWith('proxyless_inbound_requests_total{'));
  expect(routes.some((l) => l.includes(`route="/${GREETER}/Hello"`) && l.includes('method="POST"'))).toBe(true);
  expect(routes.some((l) => l.includes(`route="/${GREETER}/Secret"`))).toBe(true);
});

/** A handler class whose Hello waits until the test releases it. */
class Held extends Greeter {
  override hello(call: Call, cb: Callback) {
    this.started?.();
    this.release = () => cb(null, seen(call));
  }
}

function whenStarted(handler: Greeter): Promise<void> {
  return new Promise((resolve) => {
    handler.started = resolve;
  });
}

test('load shedding: past maxConcurrentRequests a call gets UNAVAILABLE before its handler runs', async () => {
  const m = await ws.backend('PERMISSIVE', { inbound: { maxConcurrentRequests: 1 } });
  const { port, handler } = await serve(m, new Held());
  const client = ws.client(port);
  const started = whenStarted(handler);
  const first = callUnary(client, 'Hello');
  await started;
  const shed = await callUnary(client, 'Limited');
  expect(shed.code).toBe(grpc.status.UNAVAILABLE);
  expect(shed.details).toContain('concurrent requests');
  handler.release!();
  expect((await first).code).toBe(grpc.status.OK);
  const text = await m.metricsRegistry!.metrics();
  expect(text).toMatch(/proxyless_inbound_shed_total\{reason="concurrency"\} 1/);
});

test('destroy: a call in flight is cut at once', async () => {
  const m = await ws.backend('PERMISSIVE');
  const { server, port, handler } = await serve(m, new Held());
  const started = whenStarted(handler);
  const inFlight = callUnary(ws.client(port), 'Hello');
  await started;
  server.destroy();
  expect([grpc.status.UNAVAILABLE, grpc.status.CANCELLED, grpc.status.INTERNAL]).toContain((await inFlight).code);
});

test('drain: mesh.close() lets the call in flight finish and refuses new calls', async () => {
  const m = await ws.backend('PERMISSIVE');
  const { server, port, handler } = await serve(m, new Held());
  const client = ws.client(port);
  const started = whenStarted(handler);
  const inFlight = callUnary(client, 'Hello');
  await started;
  const closed = m.close();
  // The listener closes and the connection gets a GOAWAY: a new client cannot start a call.
  await vi.waitFor(() => expect(server.address()).toBeUndefined(), { timeout: 10_000 });
  const refused = await callUnary(ws.client(port), 'Hello', {}, { deadlineMs: 3_000 });
  expect(refused.code).toBe(grpc.status.UNAVAILABLE);
  handler.release!();
  expect((await inFlight).code).toBe(grpc.status.OK);
  await closed;
});
