/** The MeshError a failed list or watch is reported as: what failed, the API server's own words, and what is kept. */
import { MeshError } from '../../errors.js';
import type { Endpoint } from '../endpoint.js';
import type { DiscoveryTarget } from '../source.js';
import { KubeApiError } from './api-error.js';
import type { KubeTarget } from './target.js';

export function watchFailure(
  err: unknown,
  discovery: DiscoveryTarget,
  target: KubeTarget,
  kept: readonly Endpoint[] | undefined,
  retrying: boolean,
): MeshError {
  if (err instanceof MeshError) return err;
  const keeping =
    kept === undefined
      ? 'no endpoints known yet'
      : `keeping the last ${kept.length} endpoint(s)${retrying ? ' and retrying' : ''}`;
  const what = `Kubernetes discovery for service "${discovery.service}" (${discovery.uri}, Service ${target.namespace}/${target.service})`;
  const details = { service: discovery.service, uri: discovery.uri, namespace: target.namespace, kubeService: target.service };
  if (err instanceof KubeApiError) {
    if (err.forbidden) {
      return new MeshError(
        'MESH_DISCOVERY_FORBIDDEN',
        `${what}: the API server forbids it (RBAC): ${err.message}; grant get, list and watch on endpointslices.discovery.k8s.io in namespace ${target.namespace} (docs/kubernetes.md); ${keeping}`,
        { cause: err, details: { ...details, status: 403, reason: err.reason } },
      );
    }
    const status = err.status > 0 ? `${err.status} ${err.reason}: ` : '';
    return new MeshError('MESH_DISCOVERY_FAILED', `${what}: ${status}${err.message}; ${keeping}`, {
      cause: err,
      ...(err.reason === 'PortNotFound' ? { retryable: false } : {}),
      details: { ...details, status: err.status, reason: err.reason },
    });
  }
  const e = err as { code?: unknown; message?: unknown };
  const reason = typeof e?.code === 'string' ? e.code : typeof e?.message === 'string' ? e.message : String(err);
  return new MeshError('MESH_DISCOVERY_FAILED', `${what}: the API server is unreachable (${reason}); ${keeping}`, {
    cause: err,
    details: { ...details, reason },
  });
}
