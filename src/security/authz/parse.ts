/**
 * parseAuthorizationPolicies: YAML text (one or more documents) or parsed
 * values → validated AuthorizationPolicy models, or one ConfigError listing
 * every problem with its path. Nothing is half-accepted: one bad policy
 * rejects the set, so the previous good set stays in force.
 *
 * Each document (or list item) is one policy, `policies[i]` in messages: an
 * Istio resource when it has `apiVersion` or `kind`, our compact form
 * otherwise (see schema.ts).
 */
import { parseAllDocuments } from 'yaml';
import { ConfigError, type ConfigIssue, formatPath } from '../../config/config-error.js';
import { toPrefixedIssues } from '../../config/zod-issues.js';
import { kindOf } from '../../config/zod-walk.js';
import type { AuthorizationPolicy } from './model.js';
import { compactPolicySchema, istioPolicySchema } from './schema.js';

export interface ParsePoliciesOptions {
  /** Where the policies came from, for the error: `file authz.yaml`, `xds`. */
  readonly source?: string;
  /**
   * Skip Kubernetes resources of other kinds (a manifest that also holds
   * Services or VirtualServices). By default they are errors.
   */
  readonly ignoreOtherKinds?: boolean;
}

const DEFAULT_SOURCE = 'authorization policies';

/** The items of the input, keyed by their index in messages. */
function items(input: unknown, source: string): (readonly [number, unknown])[] {
  if (typeof input !== 'string') {
    const list = Array.isArray(input) ? input : [input];
    return list.map((v, i) => [i, v] as const);
  }
  const docs = parseAllDocuments(input, { prettyErrors: true });
  const list = Array.isArray(docs) ? docs : [docs];
  const issues: ConfigIssue[] = [];
  list.forEach((doc, i) => {
    for (const e of doc.errors) {
      const at = e.linePos?.[0];
      const where = at ? ` at line ${at.line}, column ${at.col}` : '';
      issues.push({ path: `policies[${i}]`, message: `YAML syntax error${where}: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}` });
    }
  });
  if (issues.length > 0) throw new ConfigError(source, issues);
  const values = list.map((d) => d.toJS() as unknown);
  // One document holding a list: the list is the policies.
  if (values.length === 1 && Array.isArray(values[0])) return values[0].map((v, i) => [i, v] as const);
  return values.map((v, i) => [i, v] as const).filter(([, v]) => v !== null && v !== undefined);
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `namespace/name` as written, for messages about a policy. */
function displayName(doc: Record<string, unknown>, istio: boolean): string {
  const meta = istio ? doc.metadata : doc;
  const m = isMap(meta) ? meta : {};
  const name = typeof m.name === 'string' ? m.name : '(unnamed)';
  return typeof m.namespace === 'string' ? `${m.namespace}/${name}` : name;
}

function parseOne(
  doc: unknown,
  at: readonly PropertyKey[],
  options: ParsePoliciesOptions,
  issues: ConfigIssue[],
): AuthorizationPolicy | undefined {
  if (!isMap(doc)) {
    issues.push({ path: formatPath(at), message: `must be a map (an AuthorizationPolicy resource or a compact policy), got ${kindOf(doc)}` });
    return undefined;
  }
  const istio = 'apiVersion' in doc || 'kind' in doc;
  if (istio && doc.kind !== 'AuthorizationPolicy') {
    if (options.ignoreOtherKinds && typeof doc.kind === 'string') return undefined;
    issues.push({ path: formatPath([...at, 'kind']), message: `must be "AuthorizationPolicy", got ${kindOf(doc.kind)}` });
    return undefined;
  }
  const spec = istio ? doc.spec : doc;
  if (isMap(spec) && spec.action === 'CUSTOM') {
    issues.push({
      path: formatPath([...at, ...(istio ? ['spec'] : []), 'action']),
      message: `CUSTOM (external authorization) is not supported by proxyless; policy "${displayName(doc, istio)}" cannot be applied`,
    });
    return undefined;
  }
  const schema = istio ? istioPolicySchema : compactPolicySchema;
  const result = schema.safeParse(doc);
  if (result.success) return result.data;
  issues.push(...toPrefixedIssues(schema, result.error.issues, doc, at));
  return undefined;
}

/**
 * Validate policies from YAML text (multi-document) or parsed values (one
 * policy or a list). Throws ConfigError naming every problem's path.
 */
export function parseAuthorizationPolicies(input: unknown, options: ParsePoliciesOptions = {}): AuthorizationPolicy[] {
  const source = options.source ?? DEFAULT_SOURCE;
  const issues: ConfigIssue[] = [];
  const out: AuthorizationPolicy[] = [];
  const seen = new Map<string, number>();
  for (const [i, doc] of items(input, source)) {
    const at = ['policies', i] as const;
    const policy = parseOne(doc, at, options, issues);
    if (policy === undefined) continue;
    // Kubernetes keeps one object per namespace and name; two here is a mistake.
    const key = `${policy.namespace ?? ''}/${policy.name}`;
    const first = seen.get(key);
    if (first !== undefined) {
      const field = isMap(doc) && 'metadata' in doc ? ['metadata', 'name'] : ['name'];
      issues.push({ path: formatPath([...at, ...field]), message: `duplicates the policy at policies[${first}]` });
      continue;
    }
    seen.set(key, i);
    out.push(policy);
  }
  if (issues.length > 0) throw new ConfigError(source, issues);
  return out;
}
