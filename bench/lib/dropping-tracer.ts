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
 *
 * `ratio` (proxyless only) samples that share of new traces, and follows
 * the caller's decision for the rest (OTEL_TRACES_SAMPLER=
 * parentbased_traceidratio): 0.01 is Istio's default sampling of 1%.
 */
export type DroppingProvider = 'proxyless' | 'sdk';

const exporter = {
  export: (_spans: unknown, done: (r: { code: number }) => void) => done({ code: 0 }),
  shutdown: async () => {},
};

export async function droppingTracerProvider(kind: DroppingProvider = 'proxyless', ratio?: number): Promise<unknown> {
  if (kind === 'proxyless') {
    const { createOtelProvider } = await import('../../src/otel.js');
    if (ratio === undefined) return createOtelProvider({ exporter: exporter as never });
    const { ParentBasedSampler, TraceIdRatioBasedSampler } = await import('@opentelemetry/sdk-trace-base');
    return createOtelProvider({ exporter: exporter as never, sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) }) });
  }
  const { BasicTracerProvider, BatchSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
  return new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter as never)] });
}
