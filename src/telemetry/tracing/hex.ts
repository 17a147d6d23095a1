/**
 * Checks for the lowercase hex IDs that trace headers carry. Written as
 * char-code loops rather than regexes: every inbound request runs them, and
 * they must not allocate.
 */
import { isSpanContextValid, type SpanContext } from '@opentelemetry/api';
import { isCheckedSpanContext } from './checked-span-context.js';

/** True when s[from, from + length) is all lowercase hex (0-9, a-f). */
export function isLowerHex(s: string, from: number, length: number): boolean {
  const end = from + length;
  if (end > s.length) return false;
  for (let i = from; i < end; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}

/** True when s[from, from + length) is lowercase hex and not all '0' (the spec's invalid ID): one pass. */
export function isLowerHexId(s: string, from: number, length: number): boolean {
  const end = from + length;
  if (end > s.length) return false;
  let nonZero = false;
  for (let i = from; i < end; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
    if (c !== 48) nonZero = true;
  }
  return nonZero;
}

const ZEROS_16 = '0000000000000000';

/** A 64-bit (16 hex) trace ID widened to OTel's 128 bits, as Zipkin does: zeros on the left. */
export function padTraceId(id: string): string {
  return id.length === 16 ? ZEROS_16 + id : id;
}

/**
 * The api's isSpanContextValid, with two fast paths: a context the mesh
 * built from IDs it had checked (checked-span-context.ts) is valid without
 * another look; for other IDs in lowercase hex, one pass over both instead
 * of the api's table lookups and two compares against the all-zero
 * constants (which cost a runtime call when an ID is a slice, as pooled
 * and extracted IDs are). Anything the fast path does not accept, the
 * api decides, so the answer is always the api's.
 */
export function isSpanContextValidFast(sc: SpanContext): boolean {
  if (isCheckedSpanContext(sc)) return true;
  const { traceId, spanId } = sc;
  if (typeof traceId === 'string' && typeof spanId === 'string' && traceId.length === 32 && spanId.length === 16) {
    if (isLowerHexId(traceId, 0, 32) && isLowerHexId(spanId, 0, 16)) return true;
  }
  return isSpanContextValid(sc);
}
