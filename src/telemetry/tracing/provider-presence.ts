/**
 * Whether any tracer provider stands behind the mesh's tracer, asked once
 * per request without starting a span.
 *
 * The api's global provider is a ProxyTracerProvider: until the app
 * registers a provider (trace.setGlobalTracerProvider, or an SDK's
 * register()), it has no delegate and the ProxyTracer it handed out starts
 * the api's no-op spans; once one is registered, the proxy's delegate is
 * set and that same ProxyTracer forwards to it. So "no provider" is
 * exactly "the proxy's delegate is still the api's no-op provider", one
 * field read, and registering later is seen on the next request. Starting a
 * no-op span to learn the same cost ~500 instructions a request (measured
 * under callgrind: ProxyTracer, NoopTracer.startSpan, the span context
 * checks).
 *
 * Anything else (a provider passed explicitly, a tracer taken from a
 * provider that already had a delegate, a proxy from another copy of the
 * api) is never declared absent: the mesh then starts its span and learns
 * from the span, as before.
 */
import { ProxyTracer, ProxyTracerProvider, type Tracer, type TracerProvider } from '@opentelemetry/api';

export class ProviderPresence {
  readonly #proxy: ProxyTracerProvider | undefined;
  /** The api's own no-op provider, the proxy's answer while it has no delegate. */
  readonly #none: TracerProvider | undefined;

  /** `tracer` is what `provider.getTracer(...)` returned. */
  constructor(provider: TracerProvider, tracer: Tracer) {
    if (provider instanceof ProxyTracerProvider && tracer instanceof ProxyTracer) {
      this.#proxy = provider;
      // A fresh proxy has no delegate, so it answers with the api's shared no-op provider.
      this.#none = new ProxyTracerProvider().getDelegate();
    }
  }

  /** True only when it is certain that the tracer's spans would be the api's no-op ones. */
  get absent(): boolean {
    const proxy = this.#proxy;
    return proxy !== undefined && proxy.getDelegate() === this.#none;
  }
}
