/**
 * Label and field selectors as the API server parses them: comma-separated
 * requirements, each `k=v`, `k==v`, `k!=v`, `k`, `!k`, `k in (a,b)` or
 * `k notin (a,b)`. Field selectors support metadata.name and metadata.namespace.
 */
import type { KubeObject } from './store.js';

type Requirement = (values: Readonly<Record<string, string>>) => boolean;

export function parseSelector(text: string | null): Requirement[] {
  if (text === null || text.trim() === '') return [];
  const parts = text.match(/[^,(]+(?:\([^)]*\))?/g) ?? [];
  return parts.map((raw) => {
    const part = raw.trim().replace(/^,/, '').trim();
    let m = /^([^\s!=]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(part);
    if (m !== null) {
      const key = m[1]!;
      const set = new Set(m[3]!.split(',').map((v) => v.trim()));
      const want = m[2] === 'in';
      return (values) => (values[key] !== undefined && set.has(values[key]!)) === want;
    }
    m = /^([^\s!=]+)\s*(==|=|!=)\s*(\S*)$/.exec(part);
    if (m !== null) {
      const [, key, op, value] = m as unknown as [string, string, string, string];
      return op === '!=' ? (values) => values[key] !== value : (values) => values[key] === value;
    }
    if (part.startsWith('!')) {
      const key = part.slice(1).trim();
      return (values) => values[key] === undefined;
    }
    return (values) => values[part] !== undefined;
  });
}

export function matchesLabels(obj: KubeObject, requirements: readonly Requirement[]): boolean {
  const labels = obj.metadata.labels ?? {};
  return requirements.every((r) => r(labels));
}

export function matchesFields(obj: KubeObject, requirements: readonly Requirement[]): boolean {
  const fields = { 'metadata.name': obj.metadata.name ?? '', 'metadata.namespace': obj.metadata.namespace ?? '' };
  return requirements.every((r) => r(fields));
}
