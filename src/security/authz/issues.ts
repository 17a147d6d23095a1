/**
 * zod issues → ConfigIssues with full paths (`policies[3].spec.rules[0]…`)
 * and messages in YAML's words. Unknown fields name the closest known one.
 */
import type { z } from 'zod';
import { type ConfigIssue, formatPath } from '../../config/config-error.js';
import { closestName } from '../../config/suggest.js';
import { kindOf, knownKeysAt, typeName, valueAt } from '../../config/zod-walk.js';

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

/** Named for the parser's own messages about whole documents. */
export { kindOf };
