/**
 * What an `xds:` discovery target answers, from the client's state:
 * - `listener/<name>`: no endpoints of its own once its routes are served
 *   and their clusters answered for (the routes send to the cluster
 *   services); an error when the listener, its
 *   route configuration or a matching virtual host does not exist;
 * - `cluster/<name>`: the cluster's endpoints (EDS, or inline for STATIC);
 *   an error when the cluster or its endpoints do not exist.
 * Nothing (undefined) while the answer is still on its way.
 */
import type { XdsCluster } from './decode-cluster.js';
import type { XdsEndpoints } from './decode-endpoints.js';
import type { XdsListener } from './decode-listener.js';
import type { XdsRouteConfig, XdsVirtualHost } from './decode-route.js';
import { listenerTarget } from './names.js';
import type { TypeState } from './type-state.js';
import { toEndpoints, type WatchAnswer } from './xds-watches.js';

export interface WatchState {
  readonly lds: TypeState<XdsListener>;
  readonly rds: TypeState<XdsRouteConfig>;
  readonly cds: TypeState<XdsCluster>;
  readonly eds: TypeState<XdsEndpoints>;
  /** The virtual host each listener serves now. */
  readonly served: ReadonlyMap<string, XdsVirtualHost>;
  /** The control plane has answered for this cluster (and its endpoints). */
  readonly warm: (cluster: string) => boolean;
}

const SERVED = Object.freeze({ endpoints: toEndpoints([]) });
/** Endpoint lists by decoded resource, so an unchanged resource gives the identical list. */
const cache = new WeakMap<object, WatchAnswer>();

function endpointsOf(key: object, list: Parameters<typeof toEndpoints>[0]): WatchAnswer {
  let answer = cache.get(key);
  if (answer === undefined) {
    answer = { endpoints: toEndpoints(list) };
    cache.set(key, answer);
  }
  return answer;
}

function listener(name: string, s: WatchState): WatchAnswer {
  const served = s.served.get(name);
  // Answer once every cluster the routes name has been answered for, so `mesh.ready()` means warmed up.
  if (served !== undefined) return served.routes.every((r) => r.clusters.every(s.warm)) ? SERVED : undefined;
  if (s.lds.absent.has(name)) return { error: `xDS listener "${name}" does not exist on the control plane` };
  const l = s.lds.resources.get(name);
  if (l === undefined) return undefined;
  if (l.rdsName !== undefined && s.rds.absent.has(l.rdsName)) {
    return { error: `xDS route configuration "${l.rdsName}" (of listener "${name}") does not exist on the control plane` };
  }
  if (l.rdsName !== undefined && !s.rds.resources.has(l.rdsName)) return undefined;
  return { error: `no virtual host of listener "${name}" matches ${listenerTarget(name).authorities.join(' or ')}` };
}

function cluster(name: string, s: WatchState): WatchAnswer {
  if (s.cds.absent.has(name)) return { error: `xDS cluster "${name}" does not exist on the control plane` };
  const c = s.cds.resources.get(name);
  if (c === undefined) return undefined;
  if (c.source.kind === 'static') return endpointsOf(c, c.source.endpoints);
  if (c.source.kind !== 'eds') return undefined;
  const edsName = c.source.serviceName;
  if (s.eds.absent.has(edsName)) return { error: `xDS endpoints "${edsName}" (of cluster "${name}") do not exist on the control plane` };
  const eds = s.eds.resources.get(edsName);
  return eds === undefined ? undefined : endpointsOf(eds, eds.endpoints);
}

export function resolveWatch(path: string, s: WatchState): WatchAnswer {
  const slash = path.indexOf('/');
  const kind = path.slice(0, slash);
  const name = path.slice(slash + 1);
  if (kind === 'listener') return listener(name, s);
  if (kind === 'cluster') return cluster(name, s);
  return { error: `"xds:${path}" names no xDS resource` };
}
