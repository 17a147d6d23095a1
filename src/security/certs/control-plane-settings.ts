/**
 * Where provider `control-plane` finds its CA and its bootstrap token: the
 * config's `mesh.security.certificates` first, then MESH_CA_ADDRESS /
 * MESH_CA_TOKEN / MESH_CA_TOKEN_FILE, and for the address, the xDS server
 * (MESH_XDS_SERVER or the bootstrap's server_uri), since our control plane
 * serves xDS and certificates on one port.
 */
import type { ConfigIssue } from '../../config/config-error.js';
import { ConfigError } from '../../config/config-error.js';
import { bootstrapFromEnv } from '../../discovery/xds/bootstrap.js';

type Env = Readonly<Record<string, string | undefined>>;

interface CertificatesBlock {
  readonly provider: string;
  readonly dir?: string | undefined;
  readonly address?: string | undefined;
  readonly token?: string | undefined;
  readonly tokenFile?: string | undefined;
}

export interface ControlPlaneCaSettings {
  readonly address: string;
  readonly token?: string;
  readonly tokenFile?: string;
  readonly caFile?: string;
}

const PATH = 'mesh.security.certificates';

/** Problems with a certificates block as provider `control-plane` reads it (none for other providers' own fields). */
export function controlPlaneCaIssues(c: CertificatesBlock, env: Env): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (c.provider !== 'control-plane') {
    for (const field of ['address', 'token', 'tokenFile'] as const) {
      if (c[field] !== undefined) issues.push({ path: `${PATH}.${field}`, message: 'applies to provider "control-plane" only' });
    }
    return issues;
  }
  if (c.dir !== undefined) issues.push({ path: `${PATH}.dir`, message: 'applies to providers "files" and "dev" only' });
  if (c.token !== undefined && c.tokenFile !== undefined) {
    issues.push({ path: `${PATH}.token`, message: 'set token or tokenFile, not both' });
  }
  try {
    if (resolveAddress(c, env) === undefined) {
      issues.push({
        path: `${PATH}.address`,
        message: 'is required for provider "control-plane": set it, MESH_CA_ADDRESS, or an xDS server (MESH_XDS_SERVER)',
      });
    }
  } catch (err) {
    // A broken bootstrap is the xDS client's to report; here it only means no default address.
    if (!(err instanceof ConfigError)) throw err;
  }
  const tokenFile = c.tokenFile ?? nonEmpty(env.MESH_CA_TOKEN_FILE);
  if (c.token === undefined && nonEmpty(env.MESH_CA_TOKEN) === undefined && tokenFile === undefined) {
    issues.push({
      path: `${PATH}.token`,
      message: 'provider "control-plane" needs a bootstrap token for its first certificate: set token, tokenFile, MESH_CA_TOKEN or MESH_CA_TOKEN_FILE',
    });
  }
  return issues;
}

/** The settings a checked config resolves to. */
export function controlPlaneCaSettings(c: CertificatesBlock, env: Env): ControlPlaneCaSettings {
  const address = resolveAddress(c, env)!;
  const token = c.token ?? (c.tokenFile === undefined ? nonEmpty(env.MESH_CA_TOKEN) : undefined);
  const tokenFile = token === undefined ? (c.tokenFile ?? nonEmpty(env.MESH_CA_TOKEN_FILE)) : undefined;
  const caFile = nonEmpty(env.MESH_CA_CA_FILE) ?? nonEmpty(env.MESH_XDS_CA_FILE);
  return {
    address,
    ...(token !== undefined ? { token } : {}),
    ...(tokenFile !== undefined ? { tokenFile } : {}),
    ...(caFile !== undefined ? { caFile } : {}),
  };
}

function resolveAddress(c: CertificatesBlock, env: Env): string | undefined {
  const explicit = c.address ?? nonEmpty(env.MESH_CA_ADDRESS);
  if (explicit !== undefined) return explicit;
  const bootstrap = bootstrapFromEnv(env);
  if (bootstrap === undefined) return undefined;
  return bootstrap.creds.type === 'tls' ? `tls://${bootstrap.serverUri}` : bootstrap.serverUri;
}

function nonEmpty(v: string | undefined): string | undefined {
  const t = v?.trim();
  return t === undefined || t === '' ? undefined : t;
}
