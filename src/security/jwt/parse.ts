/**
 * RequestAuthentication config in, validated policies out, or one
 * ConfigError listing every problem with its path. Accepts YAML text (many
 * documents, as `kubectl get -o yaml` or a hand-written file has them) or
 * objects already parsed from YAML, JSON or code.
 *
 * Every policy found is numbered in input order and reported under
 * `requestAuthentications[i]`, whichever form it was written in, so a
 * message points at one place even in a file that mixes both forms.
 */
import { parseAllDocuments } from 'yaml';
import { ConfigError, type ConfigIssue } from '../../config/config-error.js';
import { closestName } from '../../config/suggest.js';
import { toPrefixedIssues } from '../../config/zod-issues.js';
import type { RequestAuthenticationPolicy } from './model.js';
import { compactPolicySchema, istioResourceSchema } from './resource-schema.js';

export interface ParseOptions {
  /** Where the config came from, for messages (`file /etc/mesh/authn.yaml`). */
  readonly source?: string;
  /** Namespace of policies that name none (kubectl's default is "default"). */
  readonly defaultNamespace?: string;
}

const KIND = 'RequestAuthentication';
const LIST_KEY = 'requestAuthentications';

/** Parse YAML text. Documents of other kinds (VirtualService, …) are left for their own parsers. */
export function parseRequestAuthenticationYaml(text: string, options: ParseOptions = {}): RequestAuthenticationPolicy[] {
  const source = options.source ?? 'yaml';
  const docs = parseAllDocuments(text, { prettyErrors: true });
  const list = Array.isArray(docs) ? docs : [docs];
  const syntax = list.flatMap((d) => d.errors);
  if (syntax.length > 0) {
    throw new ConfigError(
      source,
      syntax.map((e) => ({
        path: '',
        message: `YAML syntax error at line ${e.linePos?.[0].line ?? '?'}, column ${e.linePos?.[0].col ?? '?'}: ${e.message.split('\n')[0]}`,
      })),
    );
  }
  const entries: unknown[] = [];
  const issues: ConfigIssue[] = [];
  list.forEach((doc, i) => {
    collectDocument(doc.toJS(), i + 1, entries, issues);
  });
  return finish(entries, issues, options);
}

/**
 * Validate objects: a list of policies (either form), a map with a
 * `requestAuthentications` list, or one Istio resource.
 */
export function validateRequestAuthentications(input: unknown, options: ParseOptions = {}): RequestAuthenticationPolicy[] {
  if (Array.isArray(input)) return finish(input, [], options);
  if (isMap(input) && 'kind' in input && input.kind !== 'List') return finish([input], [], options);
  const entries: unknown[] = [];
  const issues: ConfigIssue[] = [];
  collectDocument(input, 1, entries, issues);
  return finish(entries, issues, options);
}

function collectDocument(doc: unknown, n: number, entries: unknown[], issues: ConfigIssue[]): void {
  if (doc === null || doc === undefined) return;
  if (!isMap(doc)) {
    issues.push({ path: '', message: `document ${n}: expected a ${KIND} resource or a map with "${LIST_KEY}"` });
    return;
  }
  const kind = doc.kind;
  if (kind === undefined) {
    const extra = Object.keys(doc).filter((k) => k !== LIST_KEY);
    if (extra.length > 0 || !Array.isArray(doc[LIST_KEY])) {
      const hint = extra.map((k) => closestName(k, [LIST_KEY])).find((h) => h !== undefined);
      issues.push({
        path: '',
        message: `document ${n}: expected a ${KIND} resource (with apiVersion and kind) or a map with a "${LIST_KEY}" list${hint ? ` (did you mean "${hint}"?)` : ''}`,
      });
      return;
    }
    entries.push(...(doc[LIST_KEY] as unknown[]));
  } else if (kind === KIND) {
    entries.push(doc);
  } else if (kind === 'List' && Array.isArray(doc.items)) {
    for (const item of doc.items) if (isMap(item) && item.kind === KIND) entries.push(item);
  } else if (typeof kind === 'string' && kind !== KIND && closestName(kind, [KIND]) === KIND) {
    issues.push({ path: '', message: `document ${n}: kind ${JSON.stringify(kind)} is not known (did you mean "${KIND}"?)` });
  }
}

function finish(entries: readonly unknown[], issues: ConfigIssue[], options: ParseOptions): RequestAuthenticationPolicy[] {
  const defaultNamespace = options.defaultNamespace ?? 'default';
  const policies: RequestAuthenticationPolicy[] = [];
  const names = new Map<string, number>();
  entries.forEach((entry, i) => {
    const prefix = [LIST_KEY, i];
    if (!isMap(entry)) {
      issues.push({ path: `${LIST_KEY}[${i}]`, message: `must be a map, got ${Array.isArray(entry) ? 'a list' : JSON.stringify(entry)}` });
      return;
    }
    const istio = 'apiVersion' in entry || 'kind' in entry;
    const schema = istio ? istioResourceSchema : compactPolicySchema;
    const result = schema.safeParse(entry);
    if (!result.success) {
      issues.push(...toPrefixedIssues(schema, result.error.issues, entry, prefix));
      return;
    }
    const parsed = result.data;
    const policy: RequestAuthenticationPolicy = {
      ...parsed,
      name: parsed.name ?? `compact-${i}`,
      namespace: parsed.namespace ?? defaultNamespace,
    };
    // Kubernetes keys resources by namespace and name; two with one key
    // would mean one silently replaces the other.
    const key = `${policy.namespace}/${policy.name}`;
    const earlier = names.get(key);
    if (earlier !== undefined && parsed.name !== undefined) {
      issues.push({
        path: `${LIST_KEY}[${i}]${istio ? '.metadata' : ''}.name`,
        message: `"${policy.name}" in namespace "${policy.namespace}" is already defined by ${LIST_KEY}[${earlier}]`,
      });
      return;
    }
    names.set(key, i);
    policies.push(policy);
  });
  if (issues.length > 0) throw new ConfigError(options.source ?? 'request authentication', issues);
  return policies;
}

function isMap(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
