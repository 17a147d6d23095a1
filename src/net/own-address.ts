/**
 * This workload's own IP address, the key for `hashOn: { sourceIp: true }`
 * (for outbound calls, the downstream address Envoy would hash is us).
 */
import { networkInterfaces } from 'node:os';

export /** POD_IP from the downward API, else the first non-internal IPv4 address. */
function ownAddress(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const fromEnv = env.MESH_POD_IP?.trim() || env.POD_IP?.trim();
  if (fromEnv) return fromEnv;
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}
