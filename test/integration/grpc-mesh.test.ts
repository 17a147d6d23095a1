/**
 * gRPC with the mesh on both sides: mesh clients calling mesh servers over
 * mTLS, across two hops. The caller's deadline shrinks hop by hop as
 * grpc-timeout; each server sees the verified SPIFFE ID of the hop before
 * it; an AuthorizationPolicy's denial reaches the mesh client as
 * PERMISSION_DENIED.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { createMesh, type Mesh, type MeshGrpcServer, meshContextOf } from '../../src/index.js';
import { callUnary, EchoClient, type EchoClientInstance, type EchoReply, errorOf } from '../helpers/grpc/echo-replicas.js';

let caDir: string;
const meshes: Mesh[] = [];
const servers: MeshGrpcServer[] = [];

beforeAll(() => {
  caDir = mkdtempSync(join(tmpdir(), 'proxyless-grpc-mesh-'));
});
afterAll(() => rmSync(caDir, { recursive: true, force: true }));
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close(100)));
  await Promise.all(meshes.splice(0).map((m) => m.destroy()));
});

async function meshAs(serviceAccount: string, config: Record<string, unknown> = {}): Promise<Mesh> {
  const { mesh: meshExtra, ...rest } = config as { mesh?: Record<string, unknown> };
  const m = createMesh({
    env: false,
    config: {
      ...rest,
      mesh: {
        serviceName: serviceAccount,
        ...meshExtra,
        security: { certificates: { provider: 'dev', dir: caDir }, serviceAccount, mtls: { mode: 'STRICT' } },
      },
    } as never,
  });
  meshes.push(m);
  await m.ready();
  return m;
}

function remainingMs(call: grpc.ServerUnaryCall<unknown, unknown>): number {
  const d = call.getDeadline();
  const at = d instanceof Date ? d.getTime() : Number(d);
  return Number.isFinite(at) ? at - Date.now() : -1;
}

/** Serve Echo on `m`; Get answers with `answer(call)`. */
async function serve(m: Mesh, answer: (call: grpc.ServerUnaryCall<{ text?: string }, EchoReply>) => Promise<EchoReply>): Promise<number> {
  const server = m.grpc.server();
  servers.push(server);
  server.addService(EchoClient.service, {
    get: (call: grpc.ServerUnaryCall<{ text?: string }, EchoReply>, cb: grpc.sendUnaryData<EchoReply>) => {
      answer(call).then(
        (reply) => cb(null, reply),
        (err: grpc.ServiceError) => cb(err),
      );
    },
  });
  return (await server.listen(0, '127.0.0.1')).port;
}

const mutual = { mode: 'mutual' };

test('two hops: the deadline shrinks as grpc-timeout at each hop, and each server sees the SPIFFE ID of the hop before it', async () => {
  const ratings = await meshAs('ratings');
  const ratingsPort = await serve(ratings, async (call) => ({
    text: `ratings saw ${meshContextOf(call)?.peer.spiffeId}`,
    replica: 'ratings',
    timeoutMs: remainingMs(call),
    metadata: '',
  }));

  const reviews = await meshAs('reviews', { services: { ratings: { endpoints: [`127.0.0.1:${ratingsPort}`], tls: mutual } } });
  const toRatings = reviews.grpc.client(EchoClient, 'ratings') as unknown as EchoClientInstance;
  const reviewsPort = await serve(reviews, async (call) => {
    const seen = remainingMs(call);
    // No deadline option here: the mesh caps the outbound call with the inbound request's deadline.
    const downstream = await callUnary(toRatings, 'get', { text: 'x' });
    return { ...downstream, text: `${downstream.text}; reviews saw ${meshContextOf(call)?.peer.spiffeId} with ${seen} ms` };
  });

  const frontend = await meshAs('frontend', { services: { reviews: { endpoints: [`127.0.0.1:${reviewsPort}`], tls: mutual } } });
  const client = frontend.grpc.client(EchoClient, 'reviews') as unknown as EchoClientInstance;
  const reply = await callUnary(client, 'get', { text: 'hi' }, { deadline: Date.now() + 3_000 });

  expect(reply.text).toContain('ratings saw spiffe://cluster.local/ns/default/sa/reviews');
  expect(reply.text).toContain('reviews saw spiffe://cluster.local/ns/default/sa/frontend');
  const atReviews = Number(/with (-?\d+) ms/.exec(reply.text)![1]);
  expect(atReviews).toBeGreaterThan(0);
  expect(atReviews).toBeLessThanOrEqual(3_000);
  expect(reply.timeoutMs).toBeGreaterThan(0);
  expect(reply.timeoutMs).toBeLessThanOrEqual(atReviews);
});

test('a mesh client refused by the server\'s AuthorizationPolicy gets PERMISSION_DENIED, not retried', async () => {
  const ratings = await meshAs('ratings', {
    authorizationPolicies: [
      { name: 'reviews-only', action: 'ALLOW', rules: [{ from: [{ principals: ['cluster.local/ns/default/sa/reviews'] }] }] },
    ],
  });
  let handled = 0;
  const port = await serve(ratings, async () => {
    handled++;
    return { text: 'ok', replica: 'ratings', timeoutMs: -1, metadata: '' };
  });
  const intruder = await meshAs('intruder', { services: { ratings: { endpoints: [`127.0.0.1:${port}`], tls: mutual } } });
  const client = intruder.grpc.client(EchoClient, 'ratings') as unknown as EchoClientInstance;
  const err = await errorOf(callUnary(client, 'get', { text: 'x' }));
  expect(err.code).toBe(grpc.status.PERMISSION_DENIED);
  expect(handled).toBe(0);

  const allowed = await meshAs('reviews', { services: { ratings: { endpoints: [`127.0.0.1:${port}`], tls: mutual } } });
  const ok = await callUnary(allowed.grpc.client(EchoClient, 'ratings') as unknown as EchoClientInstance, 'get', { text: 'x' });
  expect(ok.text).toBe('ok');
  expect(handled).toBe(1);
});
