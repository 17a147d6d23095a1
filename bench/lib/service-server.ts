/**
 * One service of `bench/instructions.ts --services` and of `bench/inbound.ts
 * --frameworks service`, in its own process: the shape of most services in
 * a mesh, an inbound request served through mesh.createServer whose handler
 * makes one outbound call through the mesh (`mesh.request` to the service
 * `upstream`, round-robin over the lib/upstream.ts replicas whose ports it
 * is given), reads the body and answers GET /users/:id with a small JSON
 * body. The client benches call with no parent trace and the inbound bench
 * serves with no outbound call; only here does a SERVER span have a CLIENT
 * span as its child, and the caller's trace travel on to the upstream.
 *
 *   quiet      telemetry off (no metrics, no tracing)
 *   otel       telemetry fully on: Istio metrics, and every span recorded as
 *              proxyless/otel sets it up, dropped by the exporter
 *              (lib/dropping-tracer.ts)
 *   otel-1pct  the same sampling 1% (parent-based: a caller's decision wins)
 *
 * and, to split fully on into its parts (each against quiet):
 *
 *   metrics    the Istio metrics alone (tracing off)
 *   tracing    tracing alone as in otel (metrics off)
 *   propagate  no tracer provider and metrics off: the caller's trace is
 *              only carried on to the upstream, as a mesh without a
 *              provider does
 *
 * The load sends a W3C `traceparent` on every request to every variant,
 * a different trace each time (lib/caller-traces.ts), quiet included: the
 * caller upstream of this service is the same traced mesh client whatever
 * this service does, and telemetry off means this service ignores the
 * header (it still arrives and is parsed by node's http parser, as it
 * would be in production). The flag is sampled (01),
 * except for otel-1pct in bench/instructions.ts, whose load marks one
 * request in 100 sampled, as a caller in a mesh sampling 1% would: under a
 * parent-based sampler the caller decides, so a load sampling every
 * request would measure otel-1pct as otel.
 *
 * The inbound side has no admission limits or authorization policy (both
 * off by default): they are the same with telemetry on or off, and
 * bench/inbound.ts measures them. So there is no event-loop delay limit to
 * shed requests under callgrind either.
 *
 *   tsx bench/lib/service-server.ts <quiet|otel|otel-1pct|metrics|tracing|propagate> <port,port,…>
 *
 * Prints `{"port": N}` once listening.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createMesh, type TelemetryOptions } from '../../src/index.js';
import { droppingTracerProvider } from './dropping-tracer.js';

const [variant = 'quiet', portList = ''] = process.argv.slice(2);
if (!['quiet', 'otel', 'otel-1pct', 'metrics', 'tracing', 'propagate'].includes(variant)) throw new Error(`service-server: unknown variant ${variant}`);
const endpoints = portList
  .split(',')
  .filter((p) => p !== '')
  .map((p) => `127.0.0.1:${p}`);
if (endpoints.length === 0) throw new Error('service-server: no upstream ports');

const mesh = createMesh({
  env: false,
  config: { services: { upstream: { endpoints, loadBalancer: { policy: 'round-robin' } } } },
  telemetry: await telemetryOf(variant),
});
await mesh.ready();

async function telemetryOf(v: string): Promise<TelemetryOptions> {
  if (v === 'quiet') return { metrics: false, tracing: false };
  // No provider registered anywhere: the mesh propagates the caller's context and records nothing.
  if (v === 'propagate') return { metrics: false };
  if (v === 'metrics') return { metrics: true, tracing: false };
  const tracing = { tracerProvider: (await droppingTracerProvider('proxyless', v === 'otel-1pct' ? 0.01 : undefined)) as never };
  if (v === 'tracing') return { metrics: false, tracing };
  return { metrics: true, tracing };
}

const body = JSON.stringify({ id: '42', name: 'Ada', roles: ['reader', 'writer'] });

async function handler(req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' || req.url?.startsWith('/users/') !== true) {
    res.writeHead(404).end();
    return;
  }
  try {
    const upstream = await mesh.request('http://upstream/bench');
    await upstream.body.arrayBuffer();
    // A failed call answered 200 would count a cheaper request as a served one: the load fails on anything else.
    if (upstream.statusCode !== 200) throw new Error(`upstream answered ${upstream.statusCode}`);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  } catch (error) {
    process.stderr.write(`service-server ${variant}: ${(error as Error).message}\n`);
    if (!res.headersSent) res.writeHead(502);
    res.end();
  }
}

const { port } = await mesh.createServer(handler).listen(0, '127.0.0.1');
process.stdout.write(`${JSON.stringify({ port })}\n`);
// Exit cleanly on SIGINT, as lib/inbound-server.ts does (a profiled run writes its profile).
process.on('SIGINT', () => process.exit(0));
