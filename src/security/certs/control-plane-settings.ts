/**
 * Where provider `control-plane` finds its CA and its bootstrap token. The
 * config's `mesh.security.certificates` fields come first, from whichever
 * source set them; MESH_CA_ADDRESS / MESH_CA_TOKEN / MESH_CA_TOKEN_FILE fill
 * in what the config leaves unset (process settings, docs/env.md: they apply
 * to this provider only, so they are not a config layer, where they would
 * clash with providers `files` and `dev`). The address then defaults to the
 * mesh's xDS server, however that was named (`createMesh({ xds })`,
 * GRPC_XDS_BOOTSTRAP, GRPC_XDS_BOOTSTRAP_CONFIG, MESH_XDS_SERVER), since our
 * control plane serves xDS and certificates on one port.
 */
import type { ConfigIssue } from '../../config/config-error.js';
import { type Env, envVar } from '../../config/env.js';
import type { XdsBootstrap } from '../../discovery/xds/bootstrap.js';

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

/**
 * Problems with a certificates block as provider `control-plane` reads it
 * (none for other providers' own fields). `xds` is the mesh's xDS server,
 * when its xDS client is on.
 */
export function controlPlaneCaIssues(c: CertificatesBlock, env: Env, xds: XdsBootstrap | undefined): ConfigIssue[] {
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
  if (resolveAddress(c, env, xds) === undefined) {
    issues.push({
      path: `${PATH}.address`,
      message:
        'is required for provider "control-plane": set it or MESH_CA_ADDRESS, or turn on the xDS client (xds.bootstrap, GRPC_XDS_BOOTSTRAP or MESH_XDS_SERVER), whose server is the default',
    });
  }
  if (resolveToken(c, env) === undefined) {
    issues.push({
      path: `${PATH}.token`,
      message: 'provider "control-plane" needs a bootstrap token for its first certificate: set token, tokenFile, MESH_CA_TOKEN or MESH_CA_TOKEN_FILE',
    });
  }
  return issues;
}

/** The settings a checked config resolves to. */
export function controlPlaneCaSettings(c: CertificatesBlock, env: Env, xds: XdsBootstrap | undefined): ControlPlaneCaSettings {
  const address = resolveAddress(c, env, xds)!;
  const credential = resolveToken(c, env);
  // The bundle that verifies a tls:// CA: its own variable, else the one that verifies the xDS server.
  const xdsCaFile = xds?.creds.type === 'tls' ? xds.creds.caFile : undefined;
  const caFile = envVar(env, 'MESH_CA_CA_FILE') ?? xdsCaFile ?? envVar(env, 'MESH_XDS_CA_FILE');
  return {
    address,
    ...credential,
    ...(caFile !== undefined ? { caFile } : {}),
  };
}

/** The config's address, else MESH_CA_ADDRESS, else the xDS server (`tls://` when the mesh reaches it over TLS). */
function resolveAddress(c: CertificatesBlock, env: Env, xds: XdsBootstrap | undefined): string | undefined {
  const explicit = c.address ?? envVar(env, 'MESH_CA_ADDRESS');
  if (explicit !== undefined || xds === undefined) return explicit;
  return xds.creds.type === 'tls' ? `tls://${xds.serverUri}` : xds.serverUri;
}

/**
 * The config's token or tokenFile (either hides both variables), else
 * MESH_CA_TOKEN, else MESH_CA_TOKEN_FILE.
 */
function resolveToken(c: CertificatesBlock, env: Env): { token: string } | { tokenFile: string } | undefined {
  if (c.token !== undefined) return { token: c.token };
  if (c.tokenFile !== undefined) return { tokenFile: c.tokenFile };
  const token = envVar(env, 'MESH_CA_TOKEN');
  if (token !== undefined) return { token };
  const tokenFile = envVar(env, 'MESH_CA_TOKEN_FILE');
  return tokenFile !== undefined ? { tokenFile } : undefined;
}
