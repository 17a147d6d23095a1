/**
 * The reference for the service benches' "telemetry fully on": the same
 * service as lib/service-server.ts (GET /users/:id makes one call to an
 * upstream replica, round-robin, reads its body and answers a small JSON
 * body) written without the mesh, on node:http and undici.request, and
 * instrumented the way OpenTelemetry's documentation sets up a Node
 * service:
 *
 *   raw       no telemetry
 *   raw-otel  NodeTracerProvider (its AsyncLocalStorage context manager and
 *             W3C propagators, registered globally), the http and undici
 *             instrumentations (a SERVER span per request, a CLIENT span
 *             per call, `traceparent` continued and passed on), every span
 *             sampled and batched to an exporter that drops it
 *             (lib/dropping-tracer.ts's), and the instrumentations' HTTP
 *             duration histograms kept by a MeterProvider whose reader is
 *             never collected (what a Prometheus pull exporter holds
 *             between scrapes)
 *
 * So the mesh's cost of telemetry (service-server.ts otel against quiet)
 * can be read against what the same service pays for the standard
 * OpenTelemetry setup without any mesh (raw-otel against raw).
 *
 *   tsx bench/lib/otel-reference-server.ts <raw|raw-otel> <port,port,…>
 *
 * Prints `{"port": N}` once listening.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';

const [variant = 'raw', portList = ''] = process.argv.slice(2);
if (variant !== 'raw' && variant !== 'raw-otel') throw new Error(`otel-reference-server: unknown variant ${variant}`);
const origins = portList
  .split(',')
  .filter((p) => p !== '')
  .map((p) => `http://127.0.0.1:${p}`);
if (origins.length === 0) throw new Error('otel-reference-server: no upstream ports');

if (variant === 'raw-otel') {
  const { metrics } = await import('@opentelemetry/api');
  const { registerInstrumentations } = await import('@opentelemetry/instrumentation');
  const { HttpInstrumentation } = await import('@opentelemetry/instrumentation-http');
  const { UndiciInstrumentation } = await import('@opentelemetry/instrumentation-undici');
  const { MeterProvider, MetricReader } = await import('@opentelemetry/sdk-metrics');
  const { BatchSpanProcessor, NodeTracerProvider } = await import('@opentelemetry/sdk-trace-node');
  const exporter = {
    export: (_spans: unknown, done: (r: { code: number }) => void) => done({ code: 0 }),
    shutdown: async () => {},
  };
  const provider = new NodeTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter as never)] });
  provider.register();
  // A reader nobody collects from: the histograms are kept, as between two scrapes.
  class HeldReader extends MetricReader {
    protected async onShutdown(): Promise<void> {}
    protected async onForceFlush(): Promise<void> {}
  }
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [new HeldReader()] }));
  registerInstrumentations({ instrumentations: [new HttpInstrumentation(), new UndiciInstrumentation()] });
  // The http instrumentation patches node:http when it is required; this module imports it below.
  createRequire(import.meta.url)('node:http');
}

const { createServer } = await import('node:http');
const { Pool } = await import('undici');

const pools = origins.map((o) => new Pool(o));
let next = 0;
const body = JSON.stringify({ id: '42', name: 'Ada', roles: ['reader', 'writer'] });

async function handler(req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' || req.url?.startsWith('/users/') !== true) {
    res.writeHead(404).end();
    return;
  }
  try {
    const pool = pools[next++ % pools.length]!;
    const upstream = await pool.request({ path: '/bench', method: 'GET' });
    await upstream.body.arrayBuffer();
    if (upstream.statusCode !== 200) throw new Error(`upstream answered ${upstream.statusCode}`);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  } catch (error) {
    process.stderr.write(`otel-reference-server ${variant}: ${(error as Error).message}\n`);
    if (!res.headersSent) res.writeHead(502);
    res.end();
  }
}

const server = createServer((req, res) => void handler(req, res));
server.keepAliveTimeout = 120_000;
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const address = server.address();
process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address !== null ? address.port : 0 })}\n`);
process.on('SIGINT', () => process.exit(0));
