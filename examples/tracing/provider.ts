/**
 * `createOtelProvider()` from `proxyless/otel`, in code: the provider
 * `startOtel()` would build, but registered nowhere. One mesh is given it
 * (`telemetry.tracing.tracerProvider`) and records its spans through it;
 * nothing global changes, so the rest of the process (the OpenTelemetry
 * API's global tracer, a second mesh) does not trace.
 *
 *   1. the provider, with an exporter and span processor passed in code
 *      (an in-memory exporter here; an OTLPTraceExporter({ url }) in a
 *      service) and the service name as an option, not an OTEL_* variable;
 *   2. a `catalog` server on a mesh of its own, without the provider, that
 *      prints the trace header it receives;
 *   3. a `frontend` mesh with the provider, calling the catalog.
 *
 * It prints the spans the provider exported, and shows that the catalog
 * received the frontend's trace context although it recorded nothing.
 *
 *   npx node --import tsx examples/tracing/provider.ts
 */
import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import { createMesh } from 'proxyless';
import { createOtelProvider } from 'proxyless/otel';

// --- 1. a provider, configured in code, registered nowhere -------------------------
const exporter = new InMemorySpanExporter();
const provider = createOtelProvider({
  serviceName: 'frontend',
  // Replaces the default BatchSpanProcessor around the OTLP/HTTP exporter.
  spanProcessors: [new SimpleSpanProcessor(exporter)],
});

// --- 2. a catalog server whose mesh has no provider ---------------------------------
const catalog = createMesh({ env: false, config: { mesh: { serviceName: 'catalog' } } });
let traceparent: string | undefined;
const server = catalog.createServer((req, res) => {
  traceparent = req.headers.traceparent as string | undefined;
  res.end('espresso, cortado');
});
const { port } = await server.listen(0, '127.0.0.1');

// --- 3. a frontend mesh that records through the provider ---------------------------
const frontend = createMesh({
  env: false,
  config: { mesh: { serviceName: 'frontend' }, services: { catalog: { endpoints: [`127.0.0.1:${port}`] } } },
  telemetry: { tracing: { tracerProvider: provider } },
});
await frontend.ready();

const res = await frontend.request('http://catalog/items');
await res.body.text();
console.log(`GET http://catalog/items: ${res.statusCode}`);

// The client span ends once the mesh has seen the response end, and the
// processor exports once the resource's detectors have answered: flush
// until it is there (5 s at most).
for (let waited = 0; exporter.getFinishedSpans().length === 0 && waited < 5000; waited += 20) {
  await provider.forceFlush();
  await new Promise((resolve) => setTimeout(resolve, 20));
}
const spans = exporter.getFinishedSpans();
console.log(`the provider exported ${spans.length} span(s):`);
const kinds = ['INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];
for (const s of spans) {
  console.log(
    `  ${s.name} [${kinds[s.kind]}, ${s.instrumentationScope.name}] ${s.attributes['http.response.status_code']} service.name=${s.resource.attributes['service.name']}`,
  );
}
const client = spans.find((s) => s.kind === 2);
const sent = client === undefined ? undefined : `00-${client.spanContext().traceId}-${client.spanContext().spanId}-01`;
console.log(`catalog received traceparent of that client span: ${traceparent !== undefined && traceparent === sent ? 'yes' : `no (${traceparent})`}`);
console.log(`SERVER spans: ${spans.filter((s) => s.kind === 1).length} (the catalog's mesh was given no provider, and none is registered)`);

// Nothing was registered: the API's global tracer is still the no-op one.
const global = trace.getTracer('app').startSpan('not recorded');
console.log(`a span from the global API records: ${global.isRecording()}`);
global.end();

await Promise.all([frontend.close(), catalog.close()]);
await provider.shutdown();
