/**
 * Endpoint counts by health for the endpoints gauge, read at scrape time
 * from the live destinations.
 */
import type { Destination } from '../client/destination.js';
import type { EndpointHealthCount } from './metrics/mesh-state.js';

export 
function endpointHealth(destinations: readonly Destination[]): EndpointHealthCount[] {
  const out: EndpointHealthCount[] = [];
  for (const d of destinations) {
    const counts = { healthy: 0, unhealthy: 0, ejected: 0, draining: 0 };
    for (const u of d.upstreams) counts[u.outlier?.ejected === true ? 'ejected' : u.endpoint.health]++;
    for (const [health, count] of Object.entries(counts)) {
      if (count > 0) out.push({ service: d.name, health: health as EndpointHealthCount['health'], count });
    }
  }
  return out;
}
