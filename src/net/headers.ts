/**
 * Reading one header from undici's request-header shapes without copying
 * them: a flat [name, value, name, value, ...] array of strings or Buffers,
 * or a Record<string, string | string[]> whose names may be in any case.
 */

// Header bytes are Latin-1 on the wire; decoding them that way round-trips.
const latin1 = new TextDecoder('latin1');

/** ASCII case-insensitive equality with an already lowercased name; header names are ASCII. */
export function sameName(candidate: unknown, lower: string): boolean {
  if (typeof candidate === 'string') {
    if (candidate.length !== lower.length) return false;
    if (candidate === lower) return true;
    for (let i = 0; i < lower.length; i++) {
      let c = candidate.charCodeAt(i);
      if (c >= 65 && c <= 90) c |= 0x20;
      if (c !== lower.charCodeAt(i)) return false;
    }
    return true;
  }
  if (candidate instanceof Uint8Array) {
    if (candidate.length !== lower.length) return false;
    for (let i = 0; i < lower.length; i++) {
      let c = candidate[i]!;
      if (c >= 65 && c <= 90) c |= 0x20;
      if (c !== lower.charCodeAt(i)) return false;
    }
    return true;
  }
  return false;
}

/**
 * The first value of a header, or undefined. Only the first: repeated
 * headers are rare for hash keys, and taking the first in both header shapes
 * keeps them hashing alike.
 */
export function headerValue(headers: unknown, lower: string): unknown {
  if (headers === null || typeof headers !== 'object') return undefined;
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) if (sameName(headers[i], lower)) return headers[i + 1];
    return undefined;
  }
  const record = headers as Record<string, unknown>;
  let value = record[lower];
  if (value === undefined) {
    // Callers do not always lowercase their header names.
    for (const key in record) {
      if (sameName(key, lower)) {
        value = record[key];
        break;
      }
    }
  }
  return Array.isArray(value) ? value[0] : value;
}

/** The first value of a header as a string, or undefined. */
export function headerString(headers: unknown, lower: string): string | undefined {
  const v = headerValue(headers, lower);
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return latin1.decode(v);
  return undefined;
}
