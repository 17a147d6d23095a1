/**
 * The gRPC status on the mesh client's spans: real grpc-js replicas on
 * port 0, a real grpc-js client from mesh.grpc.client(), the OpenTelemetry
 * SDK exporting to memory. The call's span and each attempt (as an event or
 * as a span) carry `rpc.grpc.status_code`; a failed call's `error.type` is
 * the status name, as the RPC conventions ask.
 */
import * as grpc from '@grpc/grpc-js';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-node';
import { afterEach, expect, test } from 'vitest';
import { createMesh, type Mesh, type MeshConfigInput } from '../../src/index.js';
import { callUnary, EchoClient, type EchoClientInstance, type EchoReplica, errorOf, startEchoReplica } from '../helpers/grpc/echo-replicas.js';
import { startTestSdk, type TestSdk } from '../unit/telemetry/tracing/sdk-setup.js';

const meshes: Mesh[] = [];
const replicas: EchoReplica[] = [];
let sdk: TestSdk | undefined;

afterEach(async () => {
  await Promise.all(meshes.splice(0).map((m) => m.destroy()));
  for (const r of replicas.splice(0)) r.server.forceShutdown();
  await sdk?.shutdown();
  sdk = undefined;
});

const CALL = 'proxyless.test.Echo/Get';

async function clientFor(attempts: 'events' | 'spans'): Promise<EchoClientInstance> {
  sdk = startTestSdk();
  const rs = await Promise.all(['a', 'b', 'c'].map((n) => startEchoReplica(n)));
  replicas.push(...rs);
  const config = {
    services: { echo: { endpoints: rs.map((r) => `127.0.0.1:${r.port}`), retries: { attempts: 2, backoff: { baseInterval: '1ms' } } } },
  } as MeshConfigInput;
  const m = createMesh({ env: false, config, telemetry: { tracing: { attempts } } });
  meshes.push(m);
  return m.grpc.client(EchoClient, 'echo') as unknown as EchoClientInstance;
}

/** The call's span: the one CLIENT span named for the method (attempt spans have "(attempt n)" in their names). */
function callSpan(): ReadableSpan {
  return sdk!.span(CALL);
}

test('an OK call\'s span carries rpc.grpc.status_code 0 and no error', async () => {
  const client = await clientFor('events');
  await callUnary(client, 'get', { text: 'x' });
  const span = callSpan();
  expect(span.kind).toBe(SpanKind.CLIENT);
  expect(span.attributes['rpc.grpc.status_code']).toBe(0);
  expect(span.attributes['error.type']).toBeUndefined();
  expect(span.status.code).toBe(SpanStatusCode.UNSET);
  expect(span.events).toEqual([]);
});

test('a call answered UNAVAILABLE and retried: the status on the call span and on each attempt event, error.type UNAVAILABLE', async () => {
  const client = await clientFor('events');
  const err = await errorOf(callUnary(client, 'get', { failWith: grpc.status.UNAVAILABLE }));
  expect(err.code).toBe(grpc.status.UNAVAILABLE);
  const span = callSpan();
  expect(span.attributes['rpc.grpc.status_code']).toBe(14);
  expect(span.attributes['error.type']).toBe('UNAVAILABLE');
  expect(span.attributes['proxyless.attempt']).toBe(3);
  expect(span.status.code).toBe(SpanStatusCode.ERROR);
  // The description is the message the caller's grpc-js error has.
  expect(span.status.message).toBe(err.message);
  const ends = span.events.filter((e) => e.name === 'proxyless.attempt.end');
  expect(ends.map((e) => e.attributes?.['proxyless.attempt'])).toEqual([1, 2, 3]);
  for (const e of ends) {
    expect(e.attributes?.['rpc.grpc.status_code']).toBe(14);
    expect(e.attributes?.['http.response.status_code']).toBe(200);
    expect(e.attributes?.['error.type']).toBe('UNAVAILABLE');
  }
});

test('with attempt spans, each attempt span carries rpc.grpc.status_code 14 and error.type UNAVAILABLE', async () => {
  const client = await clientFor('spans');
  await errorOf(callUnary(client, 'get', { failWith: grpc.status.UNAVAILABLE }));
  const span = callSpan();
  expect(span.attributes['rpc.grpc.status_code']).toBe(14);
  expect(span.attributes['error.type']).toBe('UNAVAILABLE');
  const attempts = [1, 2, 3].map((n) => sdk!.span(`${CALL} (attempt ${n})`));
  for (const a of attempts) {
    expect(a.parentSpanContext?.spanId).toBe(span.spanContext().spanId);
    expect(a.attributes['rpc.grpc.status_code']).toBe(14);
    expect(a.attributes['error.type']).toBe('UNAVAILABLE');
    expect(a.status.code).toBe(SpanStatusCode.ERROR);
  }
});

test('with attempt spans, an OK call\'s attempt span carries rpc.grpc.status_code 0', async () => {
  const client = await clientFor('spans');
  await callUnary(client, 'get', { text: 'x' });
  expect(callSpan().attributes['rpc.grpc.status_code']).toBe(0);
  const attempt = sdk!.span(`${CALL} (attempt 1)`);
  expect(attempt.attributes['rpc.grpc.status_code']).toBe(0);
  expect(attempt.attributes['error.type']).toBeUndefined();
});

test('a call the mesh failed itself keeps its MeshError code as error.type, with the gRPC status the caller got', async () => {
  sdk = startTestSdk();
  // A port nobody listens on: every attempt fails to connect.
  const gone = await startEchoReplica('gone');
  gone.server.forceShutdown();
  const config = {
    services: { echo: { endpoints: [`127.0.0.1:${gone.port}`], retries: { attempts: 1, backoff: { baseInterval: '1ms' } } } },
  } as MeshConfigInput;
  const m = createMesh({ env: false, config, telemetry: { tracing: true } });
  meshes.push(m);
  const client = m.grpc.client(EchoClient, 'echo') as unknown as EchoClientInstance;
  const err = await errorOf(callUnary(client, 'get', { text: 'x' }));
  expect(err.code).toBe(grpc.status.UNAVAILABLE);
  const span = callSpan();
  expect(span.attributes['rpc.grpc.status_code']).toBe(14);
  expect(span.attributes['error.type']).toBe(err.metadata.get('mesh-error-code')[0]);
  expect(span.attributes['error.type']).toBe('MESH_CONNECT_FAILURE');
});
