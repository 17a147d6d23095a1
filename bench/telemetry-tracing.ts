/**
 * Microbenchmark: what tracing adds to one request.
 *
 *  - ns per client trace (start + attemptStart + inject + attemptEnd + end)
 *    with no tracer provider (the api's no-op tracer), with and without an
 *    incoming trace context to pass on; and with a real BasicTracerProvider,
 *    BatchSpanProcessor and a no-op exporter, for a plain call, a retried
 *    call (events), and attempts as child spans; and the same calls with
 *    proxyless/otel's provider (createOtelProvider), whose span recorder
 *    records the mesh's spans;
 *  - ns per inbound request trace (startServer + runInContext + end), and
 *    per inbound request with one client call in its trace (a handler's
 *    work: the client span has the server span as its parent, which the
 *    calls above, made outside any trace, do not);
 *  - the pooled ID source against crypto.randomBytes per request;
 *  - what an exporter spends reading each exported span's fields, where
 *    the span recorder does part of its work (see (c) below).
 *
 * Run: npx tsx bench/telemetry-tracing.ts   (about 20 s)
 *
 * Each cell is the median of several timed rounds after a warm-up, so JIT
 * tiering and GC pauses do not land in the number.
 *
 * The client and inbound ops hand the tracer clock readings, as the mesh's
 * call and inbound exchange do (they read the clock for their own
 * deadlines, latency and metrics, traced or not). Those readings are taken
 * once per chunk, outside the timed loop, since they are not tracing's cost.
 */
import { randomBytes } from 'node:crypto';
import { BasicTracerProvider, BatchSpanProcessor, RandomIdGenerator, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { monotonicNow } from '../src/net/monotonic-clock.js';
import { createOtelProvider } from '../src/otel.js';
import type { ClientInfo, ServerInfo } from '../src/telemetry/tracing/attributes.js';
import { IdPool, PooledIdGenerator } from '../src/telemetry/tracing/id-pool.js';
import { MeshTracer, type MeshTracerOptions } from '../src/telemetry/tracing/mesh-tracer.js';
import { markdownTable, num } from './lib/table.js';

const ROUNDS = 7;

/** Between chunks the event loop runs, so the batch processor exports as it would in a server. */
const CHUNK = 500;

/**
 * Median ns per `op` over ROUNDS rounds. Only the calls are timed: the
 * event-loop turns between chunks (where the SDK's batch export happens,
 * off the request path) are not.
 */
async function nsPerOp(iterations: number, op: () => void): Promise<number> {
  const rounds: number[] = [];
  for (let r = -1; r < ROUNDS; r++) {
    let ns = 0n;
    for (let done = 0; done < iterations; done += CHUNK) {
      reading = monotonicNow();
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < CHUNK; i++) op();
      ns += process.hrtime.bigint() - t0;
      await new Promise((resolve) => setImmediate(resolve));
    }
    // Round -1 is the warm-up.
    if (r >= 0) rounds.push(Number(ns) / iterations);
  }
  rounds.sort((a, b) => a - b);
  return rounds[ROUNDS >> 1]!;
}

/** The clock reading the call and the inbound exchange would have taken (see the header). */
let reading = 0;
const CALL: ClientInfo = {
  service: 'reviews',
  route: 'default',
  method: 'GET',
  scheme: 'http',
  authority: 'reviews:9080',
  path: '/reviews/1',
  protocol: 'http',
};
const INBOUND: ServerInfo = {
  method: 'GET',
  scheme: 'http',
  authority: 'reviews:9080',
  path: '/reviews/1',
  protocol: 'http',
};
const INCOMING = { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', host: 'reviews:9080' };

let sink = 0;
const setHeader = (name: string, value: string): void => {
  sink += name.length + value.length;
};

function clientOp(mesh: MeshTracer, attempts: number): () => void {
  return () => {
    const ct = mesh.startClient(CALL);
    for (let n = 0; n < attempts; n++) {
      ct.attemptStart(n, '10.0.0.7:9080', n > 0 ? 'retriable-status-code' : undefined, reading);
      ct.inject(setHeader);
      ct.attemptEnd(n, n + 1 < attempts ? 503 : 200, undefined, reading);
    }
    ct.end({ status: 200, endedAt: reading });
  };
}

/** A handler's work: an inbound request with a traceparent, and one call made in its trace (the client span's parent is the server span). */
function handlerOp(mesh: MeshTracer): () => void {
  const call = clientOp(mesh, 1);
  return () => {
    const st = mesh.startServer(INCOMING, INBOUND);
    st.runInContext(call);
    st.end({ status: 200, endedAt: reading });
  };
}

function serverOp(mesh: MeshTracer, headers: Record<string, string>): () => void {
  return () => {
    const st = mesh.startServer(headers, INBOUND);
    st.runInContext(() => {
      sink++;
    });
    st.end({ status: 200, endedAt: reading });
  };
}

const noopExporter: SpanExporter = {
  export: (_spans, done) => done({ code: 0 }),
  shutdown: () => Promise.resolve(),
};

interface Provider {
  shutdown(): Promise<void>;
  forceFlush(): Promise<void>;
}

function sdkTracer(options: MeshTracerOptions, pooled: boolean | 'proxyless'): { mesh: MeshTracer; provider: Provider } {
  // The processor's defaults (2048 queued, batches of 512): export runs between chunks.
  const provider =
    pooled === 'proxyless'
      ? createOtelProvider({ exporter: noopExporter })
      : new BasicTracerProvider({
          spanProcessors: [new BatchSpanProcessor(noopExporter)],
          ...(pooled ? { idGenerator: new PooledIdGenerator() } : {}),
        });
  return { mesh: new MeshTracer({ ...options, tracerProvider: provider }), provider };
}

const rows: string[][] = [];
const row = (what: string, ns: number) => rows.push([what, num(ns, 0)]);

// (a) No provider registered: nothing in this process has touched the api's globals.
const bare = new MeshTracer();
row('client call, no provider, no incoming trace', await nsPerOp(200_000, clientOp(bare, 1)));
await bare.startServer(INCOMING, INBOUND).runInContext(async () => {
  row('client call, no provider, incoming trace passed on', await nsPerOp(200_000, clientOp(bare, 1)));
});
row('inbound request, no provider, no trace headers', await nsPerOp(200_000, serverOp(bare, {})));
row('inbound request, no provider, traceparent', await nsPerOp(200_000, serverOp(bare, INCOMING)));

// (b) A real SDK with a no-op exporter.
const providers: Provider[] = [];
for (const [what, options, attempts, pooled] of [
  ['client call, SDK (events)', {}, 1, false],
  ['client call, SDK (events), pooled IDs', {}, 1, true],
  ['client call retried once, SDK (events)', {}, 2, true],
  ['client call, SDK (attempt spans)', { attempts: 'spans' }, 1, true],
  ['client call retried once, SDK (attempt spans)', { attempts: 'spans' }, 2, true],
  ['client call, proxyless/otel (events)', {}, 1, 'proxyless'],
  ['client call retried once, proxyless/otel (events)', {}, 2, 'proxyless'],
  ['client call, proxyless/otel (attempt spans)', { attempts: 'spans' }, 1, 'proxyless'],
] as const) {
  const { mesh, provider } = sdkTracer(options, pooled);
  providers.push(provider);
  row(what, await nsPerOp(50_000, clientOp(mesh, attempts)));
}
const inbound = (mesh: MeshTracer) => serverOp(mesh, INCOMING);
for (const [what, pooled, op] of [
  ['inbound request, SDK, traceparent', true, inbound],
  ['inbound request, proxyless/otel, traceparent', 'proxyless', inbound],
  ['inbound request, traceparent, and a call in its trace, SDK', true, handlerOp],
  ['inbound request, traceparent, and a call in its trace, proxyless/otel', 'proxyless', handlerOp],
] as const) {
  const { mesh, provider } = sdkTracer({}, pooled);
  providers.push(provider);
  row(what, await nsPerOp(50_000, op(mesh)));
}

// (c) What an exporter pays to read each span: the fields the OTLP exporter's transform reads.
// The recorder turns times into HrTime and folds later attributes in on this first read, work
// the SDK's span did when it was recorded; a no-op exporter (as above and in issue 4's target)
// never reads, so this is where that work went.
let readNs = 0n;
let readSpans = 0;
const readingExporter: SpanExporter = {
  export: (spans, done) => {
    const t0 = process.hrtime.bigint();
    for (const span of spans) {
      const sc = span.spanContext();
      sink += sc.traceId.length + sc.spanId.length + (span.parentSpanContext?.spanId.length ?? 0) + span.name.length + span.kind;
      sink += span.startTime[1] + span.endTime[1] + span.droppedAttributesCount + span.droppedEventsCount + span.droppedLinksCount;
      for (const key in span.attributes) sink += key.length;
      for (const e of span.events) sink += e.time[1] + e.name.length + Object.keys(e.attributes ?? {}).length;
      sink += span.links.length + span.status.code + (span.resource ? 1 : 0) + span.instrumentationScope.name.length;
    }
    readNs += process.hrtime.bigint() - t0;
    readSpans += spans.length;
    done({ code: 0 });
  },
  shutdown: () => Promise.resolve(),
};
const reads: string[][] = [];
for (const [what, kind] of [
  ['SDK span (client call, events)', 'sdk'],
  ['proxyless/otel span (client call, events)', 'proxyless'],
  ['SDK spans (client call retried once, events)', 'sdk'],
  ['proxyless/otel spans (client call retried once, events)', 'proxyless'],
] as const) {
  const provider =
    kind === 'proxyless'
      ? createOtelProvider({ exporter: readingExporter })
      : new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(readingExporter)], idGenerator: new PooledIdGenerator() });
  providers.push(provider);
  const op = clientOp(new MeshTracer({ tracerProvider: provider }), what.includes('retried') ? 2 : 1);
  await nsPerOp(20_000, op);
  await provider.forceFlush();
  readNs = 0n;
  readSpans = 0;
  await nsPerOp(20_000, op);
  await provider.forceFlush();
  reads.push([what, num(Number(readNs) / readSpans, 0)]);
}

// (d) Where trace and span IDs come from.
const pool = new IdPool();
const sdkRandom = new RandomIdGenerator();
const ids: string[][] = [];
async function idRow(what: string, op: () => string): Promise<void> {
  const consume = (): void => {
    sink += op().length;
  };
  ids.push([what, num(await nsPerOp(50_000, consume), 0)]);
}
await idRow('IdPool: trace ID + span ID', () => pool.traceId() + pool.spanId());
await idRow('crypto.randomBytes(16) + (8), hex', () => randomBytes(16).toString('hex') + randomBytes(8).toString('hex'));
await idRow('crypto.randomBytes(24), hex, split', () => {
  const h = randomBytes(24).toString('hex');
  return h.slice(0, 32) + h.slice(32);
});
await idRow('SDK RandomIdGenerator (Math.random)', () => sdkRandom.generateTraceId() + sdkRandom.generateSpanId());

console.log(`Node ${process.version}, median of ${ROUNDS} rounds\n`);
console.log(markdownTable(['per request', 'ns'], rows, ['left', 'right']));
console.log();
console.log(markdownTable(['IDs for one span (trace + span ID)', 'ns'], ids, ['left', 'right']));
console.log();
console.log(markdownTable(['an exporter reading each field of one span', 'ns'], reads, ['left', 'right']));
if (sink === 42) console.log('');
await Promise.all(providers.map((p) => p.shutdown()));
