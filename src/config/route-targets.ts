/**
 * Cross-reference checks the schema cannot make on its own: every service
 * and subset a route or mirror names must exist, so a typo is rejected with
 * its path instead of silently sending traffic to the wrong place.
 */
import type { ConfigIssue } from './config-error.js';
import type { MeshConfig } from './schema.js';

export function checkRouteTargets(config: MeshConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const services = config.services;
  const check = (path: string, owner: string, target: { service?: string | undefined; subset?: string | undefined }) => {
    const name = target.service ?? owner;
    const svc = services[name];
    if (svc === undefined) {
      issues.push({
        path: `${path}.service`,
        message: `names service "${name}", which is not configured; known services: ${Object.keys(services).join(', ') || '(none)'}`,
      });
      return;
    }
    if (target.subset !== undefined && svc.subsets?.[target.subset] === undefined) {
      const known = Object.keys(svc.subsets ?? {});
      issues.push({
        path: `${path}.subset`,
        message: `names subset "${target.subset}" of service "${name}", which defines ${known.length > 0 ? `only ${known.join(', ')}` : 'no subsets'}`,
      });
    }
  };
  for (const [owner, svc] of Object.entries(services)) {
    svc.routes?.forEach((route, i) => {
      const base = `services.${owner}.routes[${i}]`;
      route.route?.forEach((dest, j) => {
        check(`${base}.route[${j}].destination`, owner, dest.destination ?? {});
      });
      if (route.mirror !== undefined) check(`${base}.mirror`, owner, route.mirror);
      route.mirrors?.forEach((m, j) => {
        check(`${base}.mirrors[${j}].destination`, owner, m.destination);
      });
    });
  }
  return issues;
}
