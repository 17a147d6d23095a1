/**
 * Attribute values as the OpenTelemetry SDK checks and limits them: what a
 * valid value is, how a value is cut to a length limit, and a limited copy
 * of an attribute record. The span recorder applies them to span, event
 * and link attributes alike.
 */
import type { Attributes, AttributeValue } from '@opentelemetry/api';

/** The api's AttributeValue test: a primitive, or an array of one primitive type (nulls allowed). */
export function isAttributeValue(v: unknown): boolean {
  const t = typeof v;
  if (t === 'string' || t === 'number' || t === 'boolean') return true;
  if (!Array.isArray(v)) return false;
  let kind: string | undefined;
  for (const item of v) {
    if (item == null) continue;
    const k = typeof item;
    if (k !== 'string' && k !== 'number' && k !== 'boolean') return false;
    if (kind === undefined) kind = k;
    else if (k !== kind) return false;
  }
  return true;
}

/** Whether `limit` cuts anything: the SDK ignores a limit of 0 or less (and warns about it). */
export function cuts(limit: number): boolean {
  return limit > 0 && limit !== Number.POSITIVE_INFINITY;
}

/** `value` cut to `limit` characters (strings, and each string of an array); arrays are always copied, as the SDK copies them. */
export function truncate(value: AttributeValue, limit: number): AttributeValue {
  const cut = cuts(limit);
  if (typeof value === 'string') return cut && value.length > limit ? value.slice(0, limit) : value;
  if (Array.isArray(value)) return value.map((v: unknown) => (cut && typeof v === 'string' && v.length > limit ? v.slice(0, limit) : v)) as AttributeValue;
  return value;
}

/**
 * Copies at most `max` valid attributes of `from`, truncated to `length`;
 * returns the copy and how many were dropped. Null and undefined values are
 * dropped from span attributes but kept (and counted) in events and links,
 * as the SDK does.
 */
export function limited(from: Attributes | undefined, max: number, length: number, keepNull = false): { attributes: Attributes; dropped: number } {
  const attributes: Attributes = {};
  let kept = 0;
  let dropped = 0;
  for (const key in from) {
    if (!Object.hasOwn(from, key)) continue;
    const value = from[key];
    if (key === '' || (value == null ? !keepNull : !isAttributeValue(value))) continue;
    if (kept >= max) {
      dropped++;
      continue;
    }
    attributes[key] = value == null ? value : truncate(value, length);
    kept++;
  }
  return { attributes, dropped };
}
