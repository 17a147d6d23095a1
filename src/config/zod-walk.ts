/**
 * Reading a rejected value and its schema at an issue's path, for error
 * messages: what the user wrote there, and which field names would have
 * been valid (the "did you mean" hint). Shared by every schema the mesh
 * validates (its config, authorization policies, request authentication).
 */
import type { z } from 'zod';

/** The value at `path` in what the user wrote, or undefined. */
export function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = raw;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[seg];
  }
  return cur;
}

/** Field names valid at `path` in `schema`, for "did you mean" hints. */
export function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): readonly string[] {
  // biome-ignore lint/suspicious/noExplicitAny: walking zod's internal shape
  let s: any = schema;
  for (const seg of path) {
    const def = unwrap(s)?._zod?.def;
    if (def?.type === 'object') s = def.shape[seg as string];
    else if (def?.type === 'record') s = def.valueType;
    else if (def?.type === 'array') s = def.element;
    else return [];
  }
  const def = unwrap(s)?._zod?.def;
  return def?.type === 'object' ? Object.keys(def.shape) : [];
}

/**
 * Strip wrappers (optional, default, pipe/transform) down to the schema that
 * sees the value. A union (an endpoint is a string or a map) resolves to its
 * map member, the only kind that can have fields; it consumes no path segment.
 */
// biome-ignore lint/suspicious/noExplicitAny: walking zod's internal shape
function unwrap(schema: any): any {
  let s = schema;
  for (let i = 0; i < 10 && s?._zod?.def; i++) {
    const def = s._zod.def;
    if (def.innerType) s = def.innerType;
    else if (def.type === 'pipe') s = def.in;
    else if (def.type === 'union') s = def.options.find((o: unknown) => unwrap(o)?._zod?.def?.type === 'object');
    else break;
  }
  return s;
}

/** A zod type name in the user's words: "a map", "a list", "a whole number". */
export function typeName(expected: string): string {
  switch (expected) {
    case 'object':
    case 'record':
    case 'map':
      return 'a map';
    case 'array':
    case 'tuple':
      return 'a list';
    case 'int':
      return 'a whole number';
    default:
      return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
  }
}

/** What the user wrote, named for a message: "a list", "null", `string "x"`. */
export function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  return `${typeof value} ${shown(value)}`;
}

/** A value as written, for messages (`NaN` and `Infinity` stay readable). */
export function shown(value: unknown): string {
  return typeof value === 'number' || typeof value === 'bigint' ? String(value) : JSON.stringify(value);
}
