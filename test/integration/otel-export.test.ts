/**
 * `proxyless/otel` end to end: startOtel() configured only by OTEL_* env
 * vars exports the mesh's spans over OTLP/HTTP to a real node:http server on
 * port 0, and the body decodes with the official OTLP protos
 * (opentelemetry-proto's .proto files, as shipped in @elastic/mockotlpserver)
 * as an `opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest`.
 */
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { context, trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OtelHandle, startOtel } from '../../src/otel.js';
import { MeshTracer } from '../../src/telemetry/tracing/mesh-tracer.js';

interface ProtoType {
  decode(bytes: Uint8Array): object;
  encode(message: object): { finish(): Uint8Array };
  fromObject(o: object): object;
  verify(o: object): string | null;
  toObject(m: object, options: { longs: StringConstructor; enums: StringConstructor; bytes: StringConstructor }): Decoded;
}
interface KeyValue {
  key: string;
  value: { stringValue?: string; intValue?: string };
}
interface DecodedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: string;
  attributes?: KeyValue[];
}
interface Decoded {
  resourceSpans: Array<{
    resource: { attributes: KeyValue[] };
    scopeSpans: Array<{ scope: { name: string }; spans: DecodedSpan[] }>;
  }>;
}

const require = createRequire(import.meta.url);
const { getProtoRoot } = require('@elastic/mockotlpserver/lib/proto.js') as {
  getProtoRoot(): { lookupType(name: string): ProtoType };
};
const RequestType = getProtoRoot().lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');

/** OTLP/JSON writes trace and span IDs as hex, not proto3-JSON's base64 (OTLP spec, "JSON Protobuf Encoding"). */
function hexIdsToBytes(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(hexIdsToBytes);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = (k === 'traceId' || k === 'spanId' || k === 'parentSpanId') && typeof v === 'string' ? Buffer.from(v, 'hex') : hexIdsToBytes(v);
  }
  return out;
}

/** Decodes one export body per its content type, with the official message type. */
function decode(body: Buffer, contentType: string): Decoded {
  let message: object;
  if (contentType.startsWith('application/x-protobuf')) {
    message = RequestType.decode(body);
  } else {
    expect(contentType).toMatch(/^application\/json/);
    const json = hexIdsToBytes(JSON.parse(body.toString('utf8'))) as object;
    const fromJson = RequestType.fromObject(json);
    expect(RequestType.verify(fromJson)).toBeNull();
    // Through the wire format and back, so every field is read by the schema's own decoder.
    message = RequestType.decode(RequestType.encode(fromJson).finish());
  }
  return RequestType.toObject(message, { longs: String, enums: String, bytes: String });
}

const b64ToHex = (b64: string) => Buffer.from(b64, 'base64').toString('hex');

let server: Server;
const bodies: Array<{ path: string; contentType: string; body: Buffer }> = [];
let otel: OtelHandle;
const saved = { ...process.env };

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push({ path: req.url ?? '', contentType: String(req.headers['content-type']), body: Buffer.concat(chunks) });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = `http://127.0.0.1:${port}/custom/v1/traces`;
  process.env.OTEL_SERVICE_NAME = 'otel-export-test';
  process.env.OTEL_TRACES_SAMPLER = 'always_on';
  process.env.OTEL_PROPAGATORS = 'tracecontext,baggage,b3';
  delete process.env.OTEL_SDK_DISABLED;
  otel = startOtel();
});

afterAll(async () => {
  await otel.shutdown();
  trace.disable();
  context.disable();
  process.env = saved;
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('startOtel() → OTLP/HTTP', () => {
  it('exports client and server spans that decode as ExportTraceServiceRequest', async () => {
    expect(otel.provider).toBeDefined();
    const mesh = new MeshTracer();
    const ct = mesh.startClient({
      service: 'reviews',
      method: 'GET',
      scheme: 'http',
      authority: 'reviews:9080',
      path: '/reviews/1',
      protocol: 'http',
    });
    ct.attemptStart(0, '10.0.0.7:9080');
    const headers: Record<string, string> = {};
    ct.inject((name, value) => {
      headers[name] = value;
    });
    // OTEL_PROPAGATORS chose the registered propagator's formats.
    expect(Object.keys(headers).sort()).toEqual(['b3', 'traceparent']);
    const st = mesh.startServer(headers, { method: 'GET', scheme: 'http', authority: 'reviews:9080', path: '/reviews/1', protocol: 'http' });
    st.end({ status: 200 });
    ct.attemptEnd(0, 200);
    ct.end({ status: 200 });
    const clientId = ct.traceId!;
    await otel.forceFlush();

    expect(bodies.length).toBeGreaterThan(0);
    expect(bodies[0]!.path).toBe('/custom/v1/traces');
    const spans: Array<DecodedSpan & { scope: string }> = [];
    let serviceName: string | undefined;
    for (const { body, contentType } of bodies) {
      for (const rs of decode(body, contentType).resourceSpans) {
        serviceName ??= rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue;
        for (const ss of rs.scopeSpans) for (const s of ss.spans) spans.push({ ...s, scope: ss.scope.name });
      }
    }
    expect(serviceName).toBe('otel-export-test');
    const client = spans.find((s) => s.name === 'GET reviews');
    const srv = spans.find((s) => s.name === 'GET');
    expect(client).toMatchObject({ kind: 'SPAN_KIND_CLIENT', scope: 'proxyless' });
    expect(srv).toMatchObject({ kind: 'SPAN_KIND_SERVER', scope: 'proxyless' });
    expect(b64ToHex(client!.traceId)).toBe(clientId);
    expect(b64ToHex(srv!.traceId)).toBe(clientId);
    expect(b64ToHex(srv!.parentSpanId!)).toBe(b64ToHex(client!.spanId));
    expect(client!.attributes?.find((a) => a.key === 'proxyless.endpoint')?.value.stringValue).toBe('10.0.0.7:9080');
  });

  it('returns a handle without a provider when OTEL_SDK_DISABLED=true', async () => {
    process.env.OTEL_SDK_DISABLED = 'true';
    try {
      const off = startOtel();
      expect(off.provider).toBeUndefined();
      await off.shutdown();
    } finally {
      delete process.env.OTEL_SDK_DISABLED;
    }
  });
});
