import { MeshError } from '../errors.js';

export interface ConfigIssue {
  /** Dotted path into the config, e.g. `services.reviews.endpoints[2].port`. */
  readonly path: string;
  readonly message: string;
}

/**
 * A rejected configuration. `source` names where it came from (`options`,
 * `env`, `file /etc/mesh.yaml`, `xds`); `issues` lists every problem found,
 * each with its path, so a user can fix all of them in one edit.
 */
export class ConfigError extends MeshError {
  readonly source: string;
  readonly issues: readonly ConfigIssue[];

  constructor(source: string, issues: readonly ConfigIssue[], cause?: unknown) {
    const lines = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message));
    const message =
      lines.length === 1
        ? `invalid config from ${source}: ${lines[0]}`
        : `invalid config from ${source} (${lines.length} problems):\n  ${lines.join('\n  ')}`;
    super('MESH_CONFIG_INVALID', message, { cause, details: { source } });
    this.name = 'ConfigError';
    this.source = source;
    this.issues = issues;
  }
}

/** Render a path array as `a.b[2].c`, quoting keys that are not identifiers. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else {
      const key = String(seg);
      if (/^[A-Za-z_$][\w$-]*$/.test(key)) out += out === '' ? key : `.${key}`;
      else out += `[${JSON.stringify(key)}]`;
    }
  }
  return out;
}
