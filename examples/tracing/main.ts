/**
 * Distributed tracing with `proxyless/otel`, end to end in one process:
 *
 *   1. a stand-in OpenTelemetry collector (node:http, OTLP/HTTP JSON) that
 *      keeps the spans it is sent;
 *   2. startOtel(), configured only by OTEL_* variables, as a deployed
 *      service would be;
 *   3. a meshed `catalog` server that fails its first request with a 503,
 *      and a client that calls it through the mesh inside a span of its own
 *      (the retry policy retries 5xx).
 *
 * It prints the trace the collector received as a tree: the application's
 * span, the mesh's CLIENT span with its attempt events, and one SERVER span
 * per attempt beneath it, all in one trace.
 *
 *   node --import tsx examples/tracing/main.ts
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { trace } from '@opentelemetry/api';
import { createMesh } from 'proxyless';
import { startOtel } from 'proxyless/otel';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: Array<{ key: string; value: { stringValue?: string; intValue?: string | number } }>;
  events?: Array<{ name: string }>;
}

// --- 1. the collector -------------------------------------------------------------
const spans: Array<OtlpSpan & { scope: string }> = [];
const collector = createServer((req, res) => {
  let body = '';
  req.on('data', (chunk: Buffer) => {
    body += chunk.toString('utf8');
  });
  req.on('end', () => {
    const message = JSON.parse(body) as { resourceSpans: Array<{ scopeSpans: Array<{ scope: { name: string }; spans: OtlpSpan[] }> }> };
    for (const rs of message.resourceSpans) for (const ss of rs.scopeSpans) for (const s of ss.spans) spans.push({ ...s, scope: ss.scope.name });
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));

// --- 2. tracing set up from the environment ---------------------------------------
process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = `http://127.0.0.1:${(collector.address() as AddressInfo).port}/v1/traces`;
process.env.OTEL_SERVICE_NAME = 'shop';
const otel = startOtel();

// --- 3. a meshed server and a meshed caller ---------------------------------------
const catalog = createMesh({ env: false, config: { mesh: { serviceName: 'catalog' } } });
let served = 0;
const server = catalog.createServer((_req, res) => {
  res.statusCode = served++ === 0 ? 503 : 200;
  res.end('espresso, cortado');
});
const { port } = await server.listen(0, '127.0.0.1');

const frontend = createMesh({
  env: false,
  config: { services: { catalog: { endpoints: [`127.0.0.1:${port}`], retries: { attempts: 2, retryOn: '5xx' } } } },
});
await frontend.ready();

const status = await trace.getTracer('shop').startActiveSpan('render product page', async (span) => {
  const res = await frontend.request('http://catalog/items');
  await res.body.text();
  span.end();
  return res.statusCode;
});
console.log(`GET http://catalog/items: ${status} after ${served} attempts`);

await otel.forceFlush();

// --- the trace, as the collector saw it -------------------------------------------
const kinds = ['INTERNAL', 'SERVER', 'CLIENT'];
const attribute = (s: OtlpSpan, key: string) => {
  const v = s.attributes?.find((a) => a.key === key)?.value;
  return v === undefined ? undefined : (v.stringValue ?? String(v.intValue));
};
function print(parent: string | undefined, depth: number): void {
  for (const s of spans.filter((x) => (x.parentSpanId || undefined) === parent)) {
    const status = attribute(s, 'http.response.status_code');
    const events = s.events?.length ? ` events: ${s.events.map((e) => e.name).join(', ')}` : '';
    console.log(`${'  '.repeat(depth)}${s.name} [${kinds[s.kind - 1] ?? s.kind}, ${s.scope}]${status === undefined ? '' : ` ${status}`}${events}`);
    print(s.spanId, depth + 1);
  }
}
console.log(`collector received ${spans.length} spans in ${new Set(spans.map((s) => s.traceId)).size} trace(s):`);
print(undefined, 1);

await Promise.all([frontend.close(), catalog.close()]);
await otel.shutdown();
collector.close();
