/**
 * Walking an Istio resource as parsed YAML (unknown values) while
 * collecting issues with full paths: `document 3 (VirtualService
 * shop/reviews).spec.http[0].match[0].scheme: not supported ...`. Fields
 * the translation does not carry over are issues, never silently dropped.
 */
import type { ConfigIssue } from '../config-error.js';

export type Raw = Record<string, unknown>;

export function isMap(value: unknown): value is Raw {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export class ResourceReader {
  readonly issues: ConfigIssue[];
  readonly at: string;

  constructor(issues: ConfigIssue[], at: string) {
    this.issues = issues;
    this.at = at;
  }

  /** A reader for a field below this one. */
  child(key: string | number): ResourceReader {
    return new ResourceReader(this.issues, typeof key === 'number' ? `${this.at}[${key}]` : `${this.at}.${key}`);
  }

  issue(message: string, key?: string | number): void {
    const path = key === undefined ? this.at : this.child(key).at;
    this.issues.push({ path, message });
  }

  /** The map at this path; an issue when `value` is something else. */
  map(value: unknown, required = false): Raw | undefined {
    if (value === undefined || value === null) {
      if (required) this.issue('is required');
      return undefined;
    }
    if (!isMap(value)) {
      this.issue(`must be a map, got ${Array.isArray(value) ? 'a list' : typeof value}`);
      return undefined;
    }
    return value;
  }

  list(value: unknown, required = false): unknown[] | undefined {
    if (value === undefined || value === null) {
      if (required) this.issue('is required');
      return undefined;
    }
    if (!Array.isArray(value)) {
      this.issue(`must be a list, got ${typeof value}`);
      return undefined;
    }
    return value;
  }

  string(value: unknown, required = false): string | undefined {
    if (value === undefined || value === null) {
      if (required) this.issue('is required');
      return undefined;
    }
    if (typeof value !== 'string' || value === '') {
      this.issue(`must be a non-empty string, got ${JSON.stringify(value)}`);
      return undefined;
    }
    return value;
  }

  /**
   * Report every key of `object` outside `supported`, naming why when a
   * reason is known: an Istio field the mesh cannot honour must not pass
   * as if it were applied.
   */
  only(object: Raw, supported: readonly string[], reasons: Readonly<Record<string, string>> = {}): void {
    for (const key of Object.keys(object)) {
      if (supported.includes(key)) continue;
      const why = reasons[key];
      this.issue(why ?? `is not supported by proxyless (supported here: ${supported.join(', ')})`, key);
    }
  }
}

/** `document 3 (VirtualService shop/reviews)`: how messages name a resource. */
export function resourceLabel(index: number, doc: Raw): string {
  const meta = isMap(doc.metadata) ? doc.metadata : {};
  const name = typeof meta.name === 'string' ? meta.name : '(unnamed)';
  const ns = typeof meta.namespace === 'string' ? `${meta.namespace}/` : '';
  return `document ${index + 1} (${String(doc.kind)} ${ns}${name})`;
}
