/**
 * A map of plain JSON values, for settings the mesh passes through without
 * reading them (a custom load-balancer policy's `config`). JSON, and only
 * JSON, because such a map must survive the trip as an xDS
 * google.protobuf.Struct and be what a gRPC client would read there: no
 * functions, class instances, NaN or Infinity, which would arrive changed or
 * not at all. Each bad value is named by its path, however deep.
 */
import { z } from 'zod';
import { shown } from './fields.js';

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function described(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'number') return `number ${String(value)}`;
  if (typeof value === 'object' && value !== null) return `a ${(value as object).constructor?.name ?? 'non-plain object'}`;
  if (value === undefined) return 'undefined';
  return `${typeof value} ${shown(value)}`;
}

/** Where in `value` the first non-JSON value sits (relative path), or undefined when it is all JSON. */
function firstNonJson(value: unknown, path: (string | number)[]): { path: (string | number)[]; value: unknown } | undefined {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : { path, value };
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const bad = firstNonJson(value[i], [...path, i]);
      if (bad !== undefined) return bad;
    }
    return undefined;
  }
  if (typeof value === 'object' && isPlainObject(value)) {
    for (const [k, v] of Object.entries(value)) {
      const bad = firstNonJson(v, [...path, k]);
      if (bad !== undefined) return bad;
    }
    return undefined;
  }
  return { path, value };
}

/** `what` names the map in the message when it is not a map at all ("the custom policy's settings"). */
export function jsonObjectSchema(what: string) {
  return z
    .custom<Record<string, unknown>>((v) => typeof v === 'object' && v !== null && !Array.isArray(v) && isPlainObject(v), {
      error: (iss) => `must be a map of ${what}, got ${Array.isArray(iss.input) ? 'a list' : described(iss.input)}`,
    })
    .superRefine((map, ctx) => {
      const bad = firstNonJson(map, []);
      if (bad === undefined) return;
      ctx.addIssue({
        code: 'custom',
        path: bad.path,
        message: `must be a JSON value (a string, a finite number, true or false, null, a list or a map), got ${described(bad.value)}`,
      });
    });
}
