/**
 * outputClaimToHeaders: a claim's value as a header value. Like Istio,
 * strings, booleans and numbers are copied and lists and maps are not; a
 * dotted name reaches a nested claim when no top-level claim has that exact
 * name (claim names such as "https://example.com/role" contain dots).
 */
import type { JWTPayload } from 'jose';

// Claims are chosen by whoever obtained the token: a value that could split
// or corrupt a header (CR, LF, NUL, non-Latin-1) is not copied at all.
const UNSAFE = /[^\t\x20-\x7e\x80-\xff]/;

export function claimHeaderValue(payload: JWTPayload, claim: string): string | undefined {
  let value: unknown = payload[claim];
  if (value === undefined && claim.includes('.')) value = nested(payload, claim.split('.'));
  let text: string;
  if (typeof value === 'string') text = value;
  else if (typeof value === 'boolean') text = value ? 'true' : 'false';
  else if (typeof value === 'number' && Number.isFinite(value)) text = String(value);
  else return undefined;
  return UNSAFE.test(text) ? undefined : text;
}

function nested(payload: JWTPayload, path: readonly string[]): unknown {
  let cur: unknown = payload;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    cur = Object.hasOwn(cur, key) ? (cur as Record<string, unknown>)[key] : undefined;
  }
  return cur;
}
