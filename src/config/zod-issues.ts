/**
 * zod issues in the words of a config file: the full path from the top of
 * the input (`policies[3].spec.rules[0]…`,
 * `requestAuthentications[0].spec.jwtRules[1].jwksUri`) and a message that
 * says what was expected and what was written; an unknown field names the
 * closest known one. Shared by the validators of resources kept beside the
 * mesh config (authorization policies, request authentication).
 */
import type { z } from 'zod';
import { type ConfigIssue, formatPath } from './config-error.js';
import { closestName } from './suggest.js';
import { kindOf, knownKeysAt, shown, typeName, valueAt } from './zod-walk.js';

/** zod's own messages start like this; anything else was written in a schema. */
const ZOD_DEFAULT = /^(Invalid|Too small|Too big)\b/;

export function toPrefixedIssues(
  schema: z.ZodType,
  issues: readonly z.core.$ZodIssue[],
  raw: unknown,
  prefix: readonly PropertyKey[],
): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeysAt(schema, issue.path);
      for (const key of issue.keys) {
        const hint = closestName(key, known);
        out.push({
          path: formatPath([...prefix, ...issue.path, key]),
          message: `unknown field${hint ? ` (did you mean "${hint}"?)` : ''}`,
        });
      }
      continue;
    }
    out.push({ path: formatPath([...prefix, ...issue.path]), message: describe(issue, valueAt(raw, issue.path)) });
  }
  return out;
}

function describe(issue: z.core.$ZodIssue, value: unknown): string {
  if (!ZOD_DEFAULT.test(issue.message)) return issue.message;
  switch (issue.code) {
    case 'invalid_type':
      return value === undefined ? `is required (${typeName(issue.expected)})` : `must be ${typeName(issue.expected)}, got ${kindOf(value)}`;
    case 'invalid_value':
      return `must be ${issue.values.map((v) => JSON.stringify(v)).join(' or ')}, got ${shown(value)}`;
    case 'too_small':
      if (issue.origin === 'string') return 'must not be empty';
      if (issue.origin === 'array') return `must have at least ${String(issue.minimum)} item${issue.minimum === 1 ? '' : 's'}`;
      return `must be at least ${String(issue.minimum)}, got ${shown(value)}`;
    default:
      return issue.message;
  }
}
