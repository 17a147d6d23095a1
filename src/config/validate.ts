import type { z } from 'zod';
import { parseAuthorizationPolicies } from '../security/authz/parse.js';
import { validateRequestAuthentications } from '../security/jwt/parse.js';
import { ConfigError, type ConfigIssue, formatPath } from './config-error.js';
import { type MeshConfig, meshConfigSchema } from './schema.js';
import { closestName } from './suggest.js';
import { kindOf, knownKeysAt, shown, typeName, valueAt } from './zod-walk.js';

/**
 * Validate raw config (parsed YAML, code options, env) into the model.
 * Throws ConfigError naming the source and every bad path.
 */
export function validateConfig(raw: unknown, source: string): MeshConfig {
  const result = meshConfigSchema.safeParse(raw ?? {});
  const issues = result.success ? [] : toConfigIssues(result.error.issues, raw);
  const lists = raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  const policies = checked(issues, 'policies', 'authorizationPolicies', () =>
    parseAuthorizationPolicies(listOrEmpty(lists.authorizationPolicies), { source }),
  );
  // A resource without a namespace belongs to this workload's, as for authorization policies.
  const defaultNamespace = result.success ? result.data.mesh.namespace : 'default';
  const authns = checked(issues, 'requestAuthentications', 'requestAuthentications', () =>
    validateRequestAuthentications(listOrEmpty(lists.requestAuthentications), { source, defaultNamespace }),
  );
  if (!result.success || issues.length > 0) throw new ConfigError(source, issues);
  return { ...result.data, authorizationPolicies: policies ?? [], requestAuthentications: authns ?? [] };
}

/** A non-list is the schema's to report; the engine's parser sees an empty list then. */
function listOrEmpty(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/**
 * Run an engine's own validator and file its issues under the config's key
 * (the engines name their list `policies[i]`, the config `authorizationPolicies[i]`).
 */
function checked<T>(issues: ConfigIssue[], theirs: string, ours: string, parse: () => T): T | undefined {
  try {
    return parse();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const i of err.issues) {
      const path = i.path.startsWith(theirs) ? ours + i.path.slice(theirs.length) : i.path === '' ? ours : `${ours}.${i.path}`;
      issues.push({ path, message: i.message });
    }
    return undefined;
  }
}

export function toConfigIssues(issues: readonly z.core.$ZodIssue[], raw: unknown): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeysAt(meshConfigSchema, issue.path);
      for (const key of issue.keys) {
        const hint = closestName(key, known);
        out.push({
          path: formatPath([...issue.path, key]),
          message: `unknown field${hint ? ` (did you mean "${hint}"?)` : ''}`,
        });
      }
      continue;
    }
    if (issue.code === 'invalid_union') {
      // Report the branch whose type matched the value (a string endpoint vs
      // an endpoint map), not a generic "no union member matched".
      const branch = issue.errors.find((errs) => !errs.some((e) => e.code === 'invalid_type' && e.path.length === 0));
      if (branch && branch.length > 0) {
        out.push(...toConfigIssues(branch.map((e) => ({ ...e, path: [...issue.path, ...e.path] })), raw));
        continue;
      }
    }
    out.push({ path: formatPath(issue.path), message: describe(issue, valueAt(raw, issue.path)) });
  }
  return out;
}

/** zod's own messages start like this; anything else was written in schema.ts. */
const ZOD_DEFAULT = /^(Invalid|Too small|Too big)\b/;

function describe(issue: z.core.$ZodIssue, value: unknown): string {
  const custom = !ZOD_DEFAULT.test(issue.message);
  switch (issue.code) {
    case 'invalid_type':
      if (custom) return issue.message;
      if (issue.path.length === 0) return `the config must be a map (with "mesh" and "services"), got ${kindOf(value)}`;
      if (value === undefined) return `is required (${typeName(issue.expected)})`;
      return `must be ${typeName(issue.expected)}, got ${kindOf(value)}`;
    case 'invalid_value':
      if (custom) return issue.message;
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${shown(value)}`;
    case 'invalid_key':
      return issue.issues[0]?.message ?? issue.message;
    case 'invalid_union': {
      if (custom) return issue.message;
      // Every member rejected the value's type: name the types they take.
      const names = new Set<string>();
      for (const errs of issue.errors) {
        for (const e of errs) if (e.code === 'invalid_type' && e.path.length === 0) names.add(typeName(e.expected));
      }
      return names.size > 0 ? `must be ${[...names].join(' or ')}, got ${kindOf(value)}` : `${shown(value)} is not valid here`;
    }
    case 'too_small': {
      if (custom) return issue.message;
      const min = String(issue.minimum);
      if (issue.origin === 'string') return issue.minimum === 1 ? 'must not be empty' : `must be at least ${min} characters`;
      if (issue.origin === 'array') return `must have at least ${min} ${issue.minimum === 1 ? 'item' : 'items'}`;
      return `must be at least ${min}, got ${shown(value)}`;
    }
    case 'too_big': {
      if (custom) return issue.message;
      const max = String(issue.maximum);
      if (issue.origin === 'string') return `must be at most ${max} characters, got ${String((value as string).length)}`;
      if (issue.origin === 'array') return `must have at most ${max} items`;
      return `must be at most ${max}, got ${shown(value)}`;
    }
    default:
      return issue.message;
  }
}







