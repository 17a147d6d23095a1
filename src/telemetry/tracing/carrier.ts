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
    return typeof carrier === 'function' ? carrier(key) : carrier[key];
  },
  keys(carrier) {
    // A getter cannot list its names; propagators that scan prefixes (Jaeger's uberctx-) see none.
    return typeof carrier === 'function' ? [] : Object.keys(carrier);
  },
};

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
