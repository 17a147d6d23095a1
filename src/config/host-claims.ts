/**
 * Two services may claim one host only on different ports: the request's
 * port then tells them apart (routing/host-index.ts), as one Kubernetes
 * Service's ports are told apart. The same host on the same port (or on
 * none, for both) would leave which one a call reaches to the order of the
 * config, so it is refused, naming both services and the host.
 */
import { claimedHosts, normalizeHost } from '../routing/host-index.js';
import type { LbConfigIssue } from './lb-levels.js';

interface ClaimShape {
  readonly mesh: { readonly namespace: string; readonly clusterDomain: string };
  readonly services: Readonly<
    Record<string, { readonly namespace?: string | undefined; readonly hosts?: readonly string[] | undefined; readonly port?: number | undefined }>
  >;
}

export function hostClaimIssues(cfg: ClaimShape): LbConfigIssue[] {
  const issues: LbConfigIssue[] = [];
  const owners = new Map<string, string>();
  const { namespace: own, clusterDomain } = cfg.mesh;
  for (const [name, svc] of Object.entries(cfg.services)) {
    const claim = { name, namespace: svc.namespace ?? own, hosts: svc.hosts, port: svc.port };
    for (const host of claimedHosts(claim, own, clusterDomain)) {
      const key = `${host} ${svc.port ?? ''}`;
      const other = owners.get(key);
      if (other === undefined) {
        owners.set(key, name);
        continue;
      }
      const where = svc.port === undefined ? 'with no port' : `on port ${svc.port}`;
      issues.push({
        path: ['services', name, ...(svc.hosts?.some((h) => normalizeHost(h) === host) ? ['hosts'] : [])],
        message: `claims host "${host}" ${where}, as service "${other}" does, so a call to it could reach either; give one of them another port, or leave the host out of its hosts`,
      });
    }
  }
  return issues;
}
