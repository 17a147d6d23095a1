/**
 * zod issues → ConfigIssues with full paths (`policies[3].spec.rules[0]…`)
 * and messages in YAML's words. Unknown fields name the closest known one.
 */
import type { z } from 'zod';
import { type ConfigIssue, formatPath } from '../../config/config-error.js';
import { closestName } from '../../config/suggest.js';

/** zod's own messages start like this; anything else was written in schema.ts. */
const ZOD_DEFAULT = /^(Invalid|Too small|Too big)\b/;

export function toIssues(
  issues: readonly z.core.$ZodIssue[],
  raw: unknown,
  prefix: readonly PropertyKey[],
  schema: z.ZodType,
): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeysAt(schema, issue.path);
      for (const key of issue.keys) {
        const hint = closestName(key, known);
        out.push({ path: formatPath([...path, key]), message: `unknown field${hint ? ` (did you mean "${hint}"?)` : ''}` });
      }
      continue;
    }
    out.push({ path: formatPath(path), message: describe(issue, valueAt(raw, issue.path)) });
  }
  return out;
}

function describe(issue: z.core.$ZodIssue, value: unknown): string {
  if (!ZOD_DEFAULT.test(issue.message)) return issue.message;
  switch (issue.code) {
    case 'invalid_type':
      return value === undefined ? `is required (${typeName(issue.expected)})` : `must be ${typeName(issue.expected)}, got ${kindOf(value)}`;
    case 'invalid_value':
      return `must be ${issue.values.map((v) => JSON.stringify(v)).join(' or ')}, got ${kindOf(value)}`;
    default:
      return issue.message;
  }
}

function typeName(expected: string): string {
  switch (expected) {
    case 'object':
    case 'record':
      return 'a map';
    case 'array':
      return 'a list';
    default:
      return `a ${expected}`;
  }
}

export function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  return `${typeof value} ${JSON.stringify(value)}`;
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let cur = raw;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[seg];
  }
  return cur;
}

/** Field names valid at a path, for "did you mean" hints. */
function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): readonly string[] {
  // biome-ignore lint/suspicious/noExplicitAny: walking zod's internal shape
  let s: any = schema;
  for (const seg of path) {
    const def = unwrap(s)?._zod?.def;
    if (def?.type === 'object') s = def.shape[seg as string];
    else if (def?.type === 'array') s = def.element;
    else if (def?.type === 'record') s = def.valueType;
    else return [];
  }
  const def = unwrap(s)?._zod?.def;
  return def?.type === 'object' ? Object.keys(def.shape) : [];
}

/** Strip optional and transform wrappers down to the schema that sees the value. */
// biome-ignore lint/suspicious/noExplicitAny: walking zod's internal shape
function unwrap(schema: any): any {
  let s = schema;
  for (let i = 0; i < 10 && s?._zod?.def; i++) {
    const def = s._zod.def;
    if (def.innerType) s = def.innerType;
    else if (def.type === 'pipe') s = def.in;
    else break;
  }
  return s;
}
