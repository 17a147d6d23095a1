/**
 * Whether anything is registered with the OpenTelemetry api at all.
 *
 * The api keeps every global it is given (context manager, propagator,
 * tracer provider, …) on one object under `Symbol.for('opentelemetry.js.api.1')`
 * on globalThis, for every copy of api 1.x in the process to share; it
 * creates that object on the first registration. Until then, asking the api
 * for its context manager or its propagator walks that lookup and a version
 * check per question (~150 instructions each under callgrind), only to
 * answer with the no-op. One property read on globalThis says the same.
 */
const API_GLOBALS = Symbol.for('opentelemetry.js.api.1');

/** False only when nothing has been registered with the api yet; then every api global is its no-op. */
export function otelGlobalsRegistered(): boolean {
  return (globalThis as { [API_GLOBALS]?: unknown })[API_GLOBALS] !== undefined;
}
