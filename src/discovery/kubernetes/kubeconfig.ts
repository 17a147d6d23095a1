/**
 * A kubeconfig file, parsed with the `yaml` package: the chosen context's
 * cluster (server, CA, TLS options) and user (bearer token, token file or
 * client certificate). Exec and auth-provider plugins are not run: they are
 * rejected with a message saying so, rather than half-supported.
 */
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { parse } from 'yaml';
import { MeshError } from '../../errors.js';
import type { ClusterConfig, Credentials } from './cluster-config.js';

type Dict = Record<string, unknown>;

export async function readKubeconfig(path: string, context?: string): Promise<ClusterConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    const code = (cause as { code?: string }).code ?? 'error';
    throw bad(path, `cannot be read (${code})`, { cause, missing: code === 'ENOENT' });
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (cause) {
    throw bad(path, `is not YAML: ${(cause as Error).message}`, { cause });
  }
  if (!isDict(doc)) throw bad(path, 'is not a kubeconfig (no top-level mapping)');
  const contextName = context ?? str(doc['current-context']);
  if (contextName === undefined) throw bad(path, 'has no current-context; name one with the provider\'s `context` option');
  const ctx = named(doc.contexts, contextName, 'context');
  if (ctx === undefined) throw bad(path, `has no context "${contextName}"`);
  const clusterName = str(ctx.cluster);
  const cluster = clusterName === undefined ? undefined : named(doc.clusters, clusterName, 'cluster');
  if (cluster === undefined) throw bad(path, `context "${contextName}" names cluster "${clusterName ?? ''}", which is not defined`);
  const server = str(cluster.server)?.replace(/\/+$/, '');
  if (server === undefined || !/^https?:\/\//.test(server)) throw bad(path, `cluster "${clusterName}" has no http(s) server URL`);
  const userName = str(ctx.user);
  const user = userName === undefined ? {} : (named(doc.users, userName, 'user') ?? {});
  const base = dirname(path);
  const where = `${path} context ${contextName}`;

  const ca = await material(cluster, 'certificate-authority', base, where);
  const clientCert = await material(user, 'client-certificate', base, where);
  const clientKey = await material(user, 'client-key', base, where);
  const tlsServerName = str(cluster['tls-server-name']);
  return {
    server,
    ...(ca !== undefined ? { ca } : {}),
    ...(clientCert !== undefined ? { clientCert } : {}),
    ...(clientKey !== undefined ? { clientKey } : {}),
    ...(tlsServerName !== undefined ? { tlsServerName } : {}),
    insecureSkipTlsVerify: cluster['insecure-skip-tls-verify'] === true,
    credentials: credentials(user, base, path, userName),
    source: `kubeconfig ${where}`,
  };
}

function credentials(user: Dict, base: string, path: string, userName: string | undefined): Credentials {
  for (const plugin of ['exec', 'auth-provider'] as const) {
    if (user[plugin] !== undefined) {
      throw bad(path, `user "${userName}" authenticates with an ${plugin} plugin, which the mesh does not run; use a token, a token file or a client certificate`);
    }
  }
  const token = str(user.token);
  if (token !== undefined) return { kind: 'token', token };
  const tokenFile = str(user.tokenFile);
  if (tokenFile !== undefined) return { kind: 'tokenFile', path: resolvePath(base, tokenFile) };
  return { kind: 'none' };
}

/** `<field>-data` (base64) wins over `<field>` (a path relative to the kubeconfig's directory). */
async function material(section: Dict, field: string, base: string, where: string): Promise<string | undefined> {
  const data = str(section[`${field}-data`]);
  if (data !== undefined) return Buffer.from(data, 'base64').toString('utf8');
  const file = str(section[field]);
  if (file === undefined) return undefined;
  const full = resolvePath(base, file);
  try {
    return await readFile(full, 'utf8');
  } catch (cause) {
    throw bad(where, `${field} ${full} cannot be read (${(cause as { code?: string }).code ?? 'error'})`, { cause });
  }
}

function named(list: unknown, name: string, key: string): Dict | undefined {
  if (!Array.isArray(list)) return undefined;
  for (const entry of list) {
    if (isDict(entry) && entry.name === name && isDict(entry[key])) return entry[key] as Dict;
  }
  return undefined;
}

function resolvePath(base: string, p: string): string {
  return isAbsolute(p) ? p : join(base, p);
}

function isDict(v: unknown): v is Dict {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function bad(path: string, reason: string, extra: { cause?: unknown; missing?: boolean } = {}): MeshError {
  return new MeshError('MESH_DISCOVERY_FAILED', `kubeconfig ${path} ${reason}`, {
    retryable: false,
    ...(extra.cause !== undefined ? { cause: extra.cause } : {}),
    details: { path, ...(extra.missing ? { missing: true } : {}) },
  });
}
