/**
 * W3C Baggage (`baggage: key=value;property, key2=value2`). Values are
 * percent-encoded on the wire; keys are RFC 9110 tokens. The limits are
 * OpenTelemetry's (180 entries, 4096 bytes an entry, 8192 bytes in all),
 * above the spec's minimums of 64 and 8192; entries past them are dropped,
 * as the spec allows, rather than failing the whole header.
 *
 * Hand-written instead of @opentelemetry/core's W3CBaggagePropagator: the
 * core of this library depends on @opentelemetry/api alone.
 */
import {
  type BaggageEntry,
  baggageEntryMetadataFromString,
  type Context,
  propagation,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
} from '@opentelemetry/api';
import { joined } from './carrier.js';
import { isTracingSuppressed } from './suppress.js';

export const BAGGAGE = 'baggage';
export const MAX_BAGGAGE_ENTRIES = 180;
export const MAX_BAGGAGE_ENTRY_BYTES = 4096;
export const MAX_BAGGAGE_BYTES = 8192;

/** RFC 9110 tchar. */
function isTokenChar(c: number): boolean {
  if ((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122)) return true;
  // ! # $ % & ' * + - . ^ _ ` | ~
  return '!#$%&\'*+-.^_`|~'.includes(String.fromCharCode(c));
}

export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!isTokenChar(s.charCodeAt(i))) return false;
  return true;
}

/** The entries of a `baggage` header; malformed members are skipped, the rest kept. */
export function parseBaggage(raw: string): Record<string, BaggageEntry> {
  const entries: Record<string, BaggageEntry> = {};
  let count = 0;
  let bytes = 0;
  for (const member of raw.split(',')) {
    if (count >= MAX_BAGGAGE_ENTRIES) break;
    const trimmed = member.trim();
    if (trimmed === '' || trimmed.length > MAX_BAGGAGE_ENTRY_BYTES) continue;
    bytes += trimmed.length;
    if (bytes > MAX_BAGGAGE_BYTES) break;
    const semi = trimmed.indexOf(';');
    const pair = semi < 0 ? trimmed : trimmed.slice(0, semi);
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const key = pair.slice(0, eq).trim();
    const value = decode(pair.slice(eq + 1).trim());
    if (!isToken(key) || value === undefined) continue;
    const properties = semi < 0 ? '' : trimmed.slice(semi + 1).trim();
    entries[key] = properties === '' ? { value } : { value, metadata: baggageEntryMetadataFromString(properties) };
    count++;
  }
  return entries;
}

/** The `baggage` header for these entries, or undefined when none can be sent. */
export function formatBaggage(entries: ReadonlyArray<[string, BaggageEntry]>): string | undefined {
  let out = '';
  let count = 0;
  for (const [key, entry] of entries) {
    if (count >= MAX_BAGGAGE_ENTRIES) break;
    if (!isToken(key)) continue;
    const meta = entry.metadata?.toString();
    const member = `${key}=${encodeURIComponent(entry.value)}${meta ? `;${meta}` : ''}`;
    if (member.length > MAX_BAGGAGE_ENTRY_BYTES) continue;
    if (out.length + member.length + (count > 0 ? 1 : 0) > MAX_BAGGAGE_BYTES) break;
    out = count > 0 ? `${out},${member}` : member;
    count++;
  }
  return count > 0 ? out : undefined;
}

/** Percent-decoding that reports bad input instead of throwing. */
function decode(value: string): string | undefined {
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}

export class BaggagePropagator implements TextMapPropagator {
  inject(ctx: Context, carrier: unknown, setter: TextMapSetter): void {
    const bag = propagation.getBaggage(ctx);
    if (bag === undefined || isTracingSuppressed(ctx)) return;
    const header = formatBaggage(bag.getAllEntries());
    if (header !== undefined) setter.set(carrier, BAGGAGE, header);
  }

  extract(ctx: Context, carrier: unknown, getter: TextMapGetter): Context {
    const raw = joined(getter.get(carrier, BAGGAGE));
    if (raw === undefined || raw === '') return ctx;
    const entries = parseBaggage(raw);
    for (const _ in entries) return propagation.setBaggage(ctx, propagation.createBaggage(entries));
    return ctx;
  }

  fields(): string[] {
    return [BAGGAGE];
  }
}
