/**
 * The "telemetry fully on" rows' tracer providers: every span sampled and
 * batched to an exporter that drops them, so the rows pay for recording
 * spans but not for sending them.
 *
 *  - `proxyless`: what `proxyless/otel` sets up (createOtelProvider: the
 *    SDK's provider and batch processor, the mesh's spans recorded by its
 *    span recorder, pooled IDs), with the dropping exporter for OTLP;
 *  - `sdk`: an application's own BasicTracerProvider, which records the
 *    mesh's spans with the SDK's tracer and its default ID generator.
 */
export type DroppingProvider = 'proxyless' | 'sdk';

const exporter = {
  export: (_spans: unknown, done: (r: { code: number }) => void) => done({ code: 0 }),
  shutdown: async () => {},
};

export async function droppingTracerProvider(kind: DroppingProvider = 'proxyless'): Promise<unknown> {
  if (kind === 'proxyless') {
    const { createOtelProvider } = await import('../../src/otel.js');
    return createOtelProvider({ exporter: exporter as never });
  }
  const { BasicTracerProvider, BatchSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
  return new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter as never)] });
}
