/**
 * Whether and where the admin endpoint listens: the `admin` option, else
 * MESH_ADMIN_PORT (and MESH_ADMIN_HOST). Off by default.
 */
import { ConfigError } from '../config/config-error.js';

export interface AdminSettings {
  readonly port: number;
  readonly host?: string;
}

export function adminSettings(
  option: AdminSettings | false | undefined,
  env: Readonly<Record<string, string | undefined>>,
): AdminSettings | undefined {
  if (option === false) return undefined;
  if (option !== undefined) return option;
  const raw = env.MESH_ADMIN_PORT?.trim();
  if (raw === undefined || raw === '') return undefined;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError('env', [{ path: 'MESH_ADMIN_PORT', message: `must be a port from 0 to 65535, got ${JSON.stringify(raw)}` }]);
  }
  const host = env.MESH_ADMIN_HOST?.trim();
  return host ? { port, host } : { port };
}
