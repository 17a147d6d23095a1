/**
 * `/clusters?format=text`: one `cluster::key::value` or
 * `cluster::address::key::value` line per fact, as Envoy's `/clusters`
 * prints them, so the habits (and greps) of people who debug Envoy carry
 * over. Endpoint health reads as Envoy's `health_flags`: `healthy`, or the
 * reasons an endpoint is out (`/failed_outlier_check` for an ejection).
 */
import type { ClusterView, EndpointView } from './admin-source.js';

export function clustersText(clusters: readonly ClusterView[], now: number): string {
  const lines: string[] = [];
  for (const c of clusters) {
    const name = oneLine(c.service);
    lines.push(
      `${name}::namespace::${oneLine(c.namespace)}`,
      `${name}::load_balancer::${oneLine(c.loadBalancer)}`,
      `${name}::circuit::${oneLine(c.circuit)}`,
    );
    if (c.discoveryError !== undefined) lines.push(`${name}::discovery_error::${oneLine(c.discoveryError)}`);
    for (const e of c.endpoints) {
      const at = `${name}::${oneLine(e.address)}`;
      lines.push(
        `${at}::weight::${e.weight}`,
        `${at}::region::${oneLine(e.region)}`,
        `${at}::zone::${oneLine(e.zone)}`,
        `${at}::priority::${e.priority}`,
        `${at}::health_flags::${healthFlags(e)}`,
        `${at}::rq_active::${e.inFlight}`,
        `${at}::ewma_ms::${round(e.ewmaMs)}`,
      );
      // Only while it warms, as ejected_ms_left only while ejected: a steady endpoint prints what it did before.
      if (e.warmth < 1) lines.push(`${at}::warmup_percent::${round(e.warmth * 100)}`);
      if (e.ejected && e.ejectedUntil !== undefined) {
        lines.push(`${at}::ejected_ms_left::${Math.max(0, Math.round(e.ejectedUntil - now))}`);
      }
    }
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/** Envoy's flag names where one exists. */
export function healthFlags(e: EndpointView): string {
  const flags: string[] = [];
  if (e.ejected) flags.push('/failed_outlier_check');
  if (e.health === 'unhealthy') flags.push('/failed_eds_health');
  else if (e.health === 'draining') flags.push('/eds_status_draining');
  else if (e.health !== 'healthy') flags.push(`/${oneLine(e.health)}`);
  return flags.length === 0 ? 'healthy' : flags.join('');
}

/** A value never breaks its line (names come from config, errors from anywhere). */
function oneLine(s: string): string {
  return s.replace(/[\r\n]+/g, ' ');
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
