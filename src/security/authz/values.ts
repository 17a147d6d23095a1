/**
 * What each kind of policy value may be, as "problem" functions: undefined
 * for a good value, else the reason, worded to follow its path
 * (`…paths[1]: …`). Shared by the Istio and compact schemas and by the
 * `when` values, which take the kind their key names.
 */
import { parseIpBlock } from './ip.js';
import { isPathTemplate, pathTemplateProblem } from './path-template.js';
import type { WhenValueType } from './when-key.js';

const MAX_PORT = 65535;

/**
 * Istio's wildcards: `*`, `abc*`, `*abc`. Anywhere else Istio would match
 * the `*` literally, which is never what was meant, so it is an error here.
 */
export function patternProblem(value: string): string | undefined {
  if (value === '') return 'must not be empty';
  if (value === '*') return undefined;
  const inner = value.slice(1, -1);
  if (inner.includes('*') || (value.startsWith('*') && value.endsWith('*'))) {
    return `${JSON.stringify(value)} has "*" where it is not supported; use it alone, at the start (suffix match) or at the end (prefix match)`;
  }
  return undefined;
}

export function principalProblem(value: string): string | undefined {
  if (value.startsWith('spiffe://')) {
    return `write principals without "spiffe://", e.g. ${JSON.stringify(value.slice('spiffe://'.length))}`;
  }
  return patternProblem(value);
}

/** HTTP methods are case-sensitive: a lower-case `get` would silently never match. */
export function methodProblem(value: string): string | undefined {
  const problem = patternProblem(value);
  if (problem !== undefined) return problem;
  if (value !== value.toUpperCase()) {
    return `${JSON.stringify(value)}: HTTP methods are upper case and compared exactly; write ${JSON.stringify(value.toUpperCase())}`;
  }
  return undefined;
}

export function pathProblem(value: string): string | undefined {
  if (value === '') return 'must not be empty';
  const template = pathTemplateProblem(value);
  if (template !== undefined) return template;
  return isPathTemplate(value) ? undefined : patternProblem(value);
}

export function ipBlockProblem(value: string): string | undefined {
  if (value === '') return 'must not be empty';
  const block = parseIpBlock(value);
  return typeof block === 'string' ? `${JSON.stringify(value)} ${block}` : undefined;
}

/** A port as Istio writes it ("8080"), or as a number; the reason when it is neither. */
export function parsePort(value: unknown): number | string {
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text !== 'string' || !/^\d{1,5}$/.test(text) || Number(text) > MAX_PORT) {
    return `${JSON.stringify(value)} is not a port; write a number from 0 to ${MAX_PORT}`;
  }
  return Number(text);
}

/** Istio's serviceAccounts: `name` or `namespace/name`, no wildcards. */
export function serviceAccountProblem(value: string): string | undefined {
  if (value === '') return 'must not be empty';
  if (value.includes('*')) return 'service accounts take no wildcards';
  const parts = value.split('/');
  if (parts.length > 2 || parts.some((p) => p === '')) {
    return `${JSON.stringify(value)}: write "name" or "namespace/name"`;
  }
  return undefined;
}

/** The check for a `when` value of the given kind. */
export function whenValueProblem(type: WhenValueType, value: string): string | undefined {
  switch (type) {
    case 'ip':
      return ipBlockProblem(value);
    case 'port': {
      const port = parsePort(value);
      return typeof port === 'string' ? port : undefined;
    }
    case 'serviceAccount':
      return serviceAccountProblem(value);
    case 'principal':
      return principalProblem(value);
    default:
      return patternProblem(value);
  }
}
