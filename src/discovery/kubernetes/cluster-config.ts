/**
 * Where the API server is and how to authenticate, the way client-go finds
 * it: a kubeconfig named by the provider's options or by KUBECONFIG; else
 * the in-cluster service account (KUBERNETES_SERVICE_HOST/PORT, the mounted
 * token and CA); else ~/.kube/config. Read when the first watch starts,
 * never at import or construction.
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { MeshError } from '../../errors.js';
import { readKubeconfig } from './kubeconfig.js';

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export type Credentials =
  /** Re-read on rotation: projected service-account tokens are replaced about hourly. */
  | { readonly kind: 'tokenFile'; readonly path: string }
  | { readonly kind: 'token'; readonly token: string }
  | { readonly kind: 'none' };

export interface ClusterConfig {
  /** `https://host:port`, no trailing slash. */
  readonly server: string;
  readonly ca?: string;
  readonly clientCert?: string;
  readonly clientKey?: string;
  readonly insecureSkipTlsVerify: boolean;
  readonly tlsServerName?: string;
  readonly credentials: Credentials;
  /** Where this came from, for messages: `in-cluster` or `kubeconfig <path> context <name>`. */
  readonly source: string;
}

export interface ClusterConfigOptions {
  /** A kubeconfig file; wins over KUBECONFIG and in-cluster config. */
  readonly kubeconfig?: string;
  /** The kubeconfig context to use; default its current-context. */
  readonly context?: string;
  /** The mounted service-account directory (token, ca.crt); default Kubernetes' path. */
  readonly serviceAccountDir?: string;
}

type Env = Readonly<Record<string, string | undefined>>;

export async function loadClusterConfig(env: Env, options: ClusterConfigOptions = {}): Promise<ClusterConfig> {
  const explicit = options.kubeconfig ?? firstPath(env.KUBECONFIG);
  if (explicit !== undefined) return readKubeconfig(explicit, options.context);
  const host = env.KUBERNETES_SERVICE_HOST?.trim();
  if (host) return inCluster(host, env.KUBERNETES_SERVICE_PORT?.trim() || '443', options.serviceAccountDir ?? SERVICE_ACCOUNT_DIR);
  // Empty counts as unset, as for every variable the mesh reads.
  const home = env.HOME?.trim() || homedir();
  try {
    return await readKubeconfig(join(home, '.kube', 'config'), options.context);
  } catch (err) {
    if ((err as MeshError).details?.missing !== true) throw err;
    throw new MeshError(
      'MESH_DISCOVERY_FAILED',
      'no Kubernetes API server configured: KUBERNETES_SERVICE_HOST is not set (not running in a pod), KUBECONFIG is not set and ~/.kube/config does not exist',
      { retryable: false, cause: err },
    );
  }
}

/** KUBECONFIG may list several files (path-list separated); the first one is used. */
function firstPath(value: string | undefined): string | undefined {
  const first = value?.split(process.platform === 'win32' ? ';' : ':').find((p) => p.trim() !== '');
  return first?.trim();
}

async function inCluster(host: string, port: string, dir: string): Promise<ClusterConfig> {
  const tokenPath = join(dir, 'token');
  const caPath = join(dir, 'ca.crt');
  let ca: string;
  try {
    // Read once to fail early and clearly; the token is re-read as it rotates.
    await readFile(tokenPath);
    ca = await readFile(caPath, 'utf8');
  } catch (cause) {
    const path = (cause as { path?: string }).path ?? dir;
    throw new MeshError(
      'MESH_DISCOVERY_FAILED',
      `in-cluster Kubernetes config: cannot read ${path} (${(cause as { code?: string }).code ?? 'error'}); is a service account token mounted (automountServiceAccountToken)?`,
      { retryable: false, cause, details: { path } },
    );
  }
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return {
    server: `https://${hostPart}:${port}`,
    ca,
    insecureSkipTlsVerify: false,
    credentials: { kind: 'tokenFile', path: tokenPath },
    source: 'in-cluster service account',
  };
}
