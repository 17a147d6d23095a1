/**
 * How the propagators read and write headers. Inbound, the mesh hands over
 * either Node's header record (names already lowercase) or a getter for a
 * lowercase name; outbound, a `setHeader(name, value)` callback. The TextMap
 * getter and setter objects are constants, so extracting or injecting
 * allocates nothing of its own.
 */
import type { TextMapGetter, TextMapSetter } from '@opentelemetry/api';

/** A header value as Node and undici give it: repeated headers become an array. */
export type HeaderValue = string | string[] | undefined;

/** Reads one header by its lowercase name. */
export type HeaderGetter = (lowerName: string) => HeaderValue;

/** Where inbound headers come from: Node's `IncomingHttpHeaders` (lowercase keys) or a getter. */
export type HeaderSource = Readonly<Record<string, HeaderValue>> | HeaderGetter;

/** Writes one outbound header; called once per header name. */
export type HeaderSetter = (name: string, value: string) => void;

export const headerSourceGetter: TextMapGetter<HeaderSource> = {
  // Propagators ask for lowercase names (HTTP/2 allows no other), as Node stores them: a plain lookup.
  get(carrier, key) {
    return typeof carrier === 'function' ? carrier(key) : recordHeader(carrier, key);
  },
  keys(carrier) {
    // A getter cannot list its names; propagators that scan prefixes (Jaeger's uberctx-) see none.
    return typeof carrier === 'function' ? [] : Object.keys(carrier);
  },
};

/**
 * `headers[key]`, with a load site of its own for each trace header name.
 * One `headers[key]` site fed five names (an extraction asks for
 * traceparent, tracestate, b3, x-b3-traceid and baggage) goes megamorphic:
 * measured under callgrind, ~700 instructions a request in
 * KeyedLoadIC_Megamorphic. A constant-name load stays monomorphic while
 * requests share a header shape, and comparing an internalized key with a
 * literal is a pointer comparison. (Literals, not the constants of
 * trace-context.ts and b3.ts, which import this module.)
 */
function recordHeader(headers: Readonly<Record<string, HeaderValue>>, key: string): HeaderValue {
  switch (key) {
    case 'traceparent':
      return headers.traceparent;
    case 'tracestate':
      return headers.tracestate;
    case 'baggage':
      return headers.baggage;
    case 'b3':
      return headers.b3;
    case 'x-b3-traceid':
      return headers['x-b3-traceid'];
    case 'x-b3-spanid':
      return headers['x-b3-spanid'];
    case 'x-b3-sampled':
      return headers['x-b3-sampled'];
    case 'x-b3-flags':
      return headers['x-b3-flags'];
    default:
      return headers[key];
  }
}

export const headerSetterSetter: TextMapSetter<HeaderSetter> = {
  set(carrier, key, value) {
    carrier(key, value);
  },
};

/** The one value of a header that must not repeat; a repeated one is treated as absent. */
export function single(value: HeaderValue): string | undefined {
  if (typeof value === 'string') return value;
  if (value !== undefined && value.length === 1) return value[0];
  return undefined;
}

/** A list-valued header (tracestate, baggage) whose repeats join into one list, as RFC 9110 allows. */
export function joined(value: HeaderValue): string | undefined {
  if (typeof value === 'string' || value === undefined) return value;
  return value.length === 0 ? undefined : value.join(',');
}
