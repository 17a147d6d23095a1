/**
 * The request's 32-bit hash for ring-hash and maglev, per `hashOn` config.
 *
 * Compiled once per config into a closure, so a request pays for one header
 * scan and one murmur3 over the value: no regex, no lowercasing copies, no
 * substring for cookies or query parameters (hashString hashes a range in
 * place). Buffer header values hash the same as the equal string, because
 * both are hashed as UTF-8 bytes.
 *
 * When the key is absent the result is undefined and the picker picks at
 * random, as Envoy does when no hash policy yields a hash.
 */
import type { LoadBalancerConfig } from '../config/schema.js';
import { headerValue, sameName } from '../net/headers.js';
import { findQueryValue, queryValueEnd } from '../net/query.js';
import { hashBytes, hashString } from './hash.js';

export type HashOn = NonNullable<LoadBalancerConfig['hashOn']>;

/**
 * `headers` is undici-style: a flat [name, value, name, value, ...] array of
 * strings or Buffers, or a Record<string, string | string[]>.
 */
export type RequestHasher = (path: string, headers: unknown, sourceIp?: string) => number | undefined;

const noHash: RequestHasher = () => undefined;
const utf8 = new TextDecoder();

export function compileRequestHash(hashOn: HashOn | undefined): RequestHasher {
  if (hashOn === undefined) return noHash;
  if ('header' in hashOn) {
    const name = hashOn.header.toLowerCase();
    return (_path, headers) => hashHeader(headers, name);
  }
  if ('cookie' in hashOn) {
    const name = hashOn.cookie;
    return (_path, headers) => hashCookie(headers, name);
  }
  if ('queryParameter' in hashOn) {
    const name = hashOn.queryParameter;
    return (path) => hashQueryParameter(path, name);
  }
  return (_path, _headers, sourceIp) => (sourceIp ? hashString(sourceIp) : undefined);
}

function hashValue(value: unknown): number | undefined {
  if (typeof value === 'string') return hashString(value);
  if (value instanceof Uint8Array) return hashBytes(value);
  return undefined;
}

function hashHeader(headers: unknown, lower: string): number | undefined {
  return hashValue(headerValue(headers, lower));
}

function hashCookie(headers: unknown, name: string): number | undefined {
  // Every cookie header counts: HTTP/2 clients may split cookies across them.
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) {
      if (!sameName(headers[i], 'cookie')) continue;
      const h = hashCookieIn(headers[i + 1], name);
      if (h !== undefined) return h;
    }
    return undefined;
  }
  if (headers === null || typeof headers !== 'object') return undefined;
  const record = headers as Record<string, unknown>;
  let value = record.cookie;
  if (value === undefined) {
    for (const key in record) {
      if (sameName(key, 'cookie')) {
        value = record[key];
        break;
      }
    }
  }
  if (!Array.isArray(value)) return hashCookieIn(value, name);
  for (const v of value) {
    const h = hashCookieIn(v, name);
    if (h !== undefined) return h;
  }
  return undefined;
}

function hashCookieIn(value: unknown, name: string): number | undefined {
  // Buffers are decoded (rare, and cookie parsing wants a string); the
  // UTF-8 round trip gives the same bytes, so the same hash.
  const text = typeof value === 'string' ? value : value instanceof Uint8Array ? utf8.decode(value) : undefined;
  if (text === undefined) return undefined;
  // "a=1; b=2": pairs split by ';', optional whitespace, the first match wins.
  let i = 0;
  const end = text.length;
  while (i < end) {
    while (i < end && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9)) i++;
    let stop = text.indexOf(';', i);
    if (stop < 0) stop = end;
    if (text.startsWith(name, i) && text.charCodeAt(i + name.length) === 61 /* = */ && i + name.length < stop) {
      let start = i + name.length + 1;
      let last = stop;
      while (last > start && (text.charCodeAt(last - 1) === 32 || text.charCodeAt(last - 1) === 9)) last--;
      // RFC 6265 allows the value in double quotes; the quotes are not part of it.
      if (last - start >= 2 && text.charCodeAt(start) === 34 && text.charCodeAt(last - 1) === 34) {
        start++;
        last--;
      }
      return hashString(text, 0, start, last);
    }
    i = stop + 1;
  }
  return undefined;
}

/** Hashes the raw (still percent-encoded) value; a parameter given without '=' hashes as ''. */
function hashQueryParameter(path: string, name: string): number | undefined {
  const start = findQueryValue(path, name);
  return start < 0 ? undefined : hashString(path, 0, start, queryValueEnd(path, start));
}
