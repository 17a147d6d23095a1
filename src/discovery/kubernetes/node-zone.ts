/**
 * This workload's zone and region from its Node's labels. The Downward API cannot
 * expose a Node's labels to a pod, only `spec.nodeName`, so the provider
 * reads the Node itself (as Istio's agent does): one GET, cluster-scoped,
 * needing `get` on `nodes` through a ClusterRole (a Role cannot grant it).
 */
import { isMeshError } from '../../errors.js';
import type { KubeApiClient } from './api-client.js';
import { KubeApiError } from './api-error.js';
import type { NodeObject } from './resources.js';

export const ZONE_LABEL = 'topology.kubernetes.io/zone';
/** Replaced by ZONE_LABEL in Kubernetes 1.17; older clusters and some installers still set only this one. */
export const LEGACY_ZONE_LABEL = 'failure-domain.beta.kubernetes.io/zone';
export const REGION_LABEL = 'topology.kubernetes.io/region';
export const LEGACY_REGION_LABEL = 'failure-domain.beta.kubernetes.io/region';

/** A Node's topology labels; '' where it has none. */
export interface NodeLocality {
  readonly zone: string;
  readonly region: string;
}

/** RFC 1123 subdomain: what Kubernetes requires of Node names. */
const NODE_NAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Why `name` cannot be a Node name, or undefined when it can. */
export function nodeNameProblem(name: string): string | undefined {
  return NODE_NAME.test(name) ? undefined : 'is not a Node name (lower-case letters, digits, "-" and ".", at most 253 characters)';
}

/** The Node's zone and region labels; throws KubeApiError when the read fails or the answer is not a Node. */
export async function readNodeLocality(client: KubeApiClient, name: string, signal: AbortSignal): Promise<NodeLocality> {
  const path = `/api/v1/nodes/${encodeURIComponent(name)}`;
  const body = await client.getJson(path, signal);
  return localityOfNode(body, path);
}

export function localityOfNode(body: unknown, path: string): NodeLocality {
  const node = (typeof body === 'object' && body !== null && !Array.isArray(body) ? body : undefined) as NodeObject | undefined;
  if (node === undefined || (node.kind !== undefined && node.kind !== 'Node') || typeof node.metadata !== 'object' || node.metadata === null) {
    const what = node?.kind !== undefined ? `a ${String(node.kind)}` : 'something';
    throw new KubeApiError(200, 'BadResponse', `the API server answered GET ${path} with ${what} that is not a Node`);
  }
  const labels = node.metadata.labels ?? {};
  return { zone: firstLabel(labels, ZONE_LABEL, LEGACY_ZONE_LABEL), region: firstLabel(labels, REGION_LABEL, LEGACY_REGION_LABEL) };
}

function firstLabel(labels: Readonly<Record<string, unknown>>, ...names: string[]): string {
  for (const label of names) {
    const value = labels[label];
    if (typeof value === 'string' && value.trim() !== '') return value.trim();
  }
  return '';
}

/** The one warning for a failed Node read: which Node, what the server said, and the permission it takes. */
export function nodeReadWarning(name: string, variable: string, err: unknown): { message: string; fields: Record<string, unknown> } {
  let status: string;
  let fields: Record<string, unknown>;
  if (err instanceof KubeApiError) {
    status = `${err.status > 0 ? `${err.status} ` : ''}${err.reason}: ${err.message}`;
    fields = { node: name, status: err.status, reason: err.reason };
  } else if (isMeshError(err)) {
    // The cluster config could not be loaded (no API server configured, an unreadable token): its message says which.
    status = err.message;
    fields = { node: name, reason: err.code };
  } else {
    const e = err as { code?: unknown; message?: unknown } | undefined;
    const reason = typeof e?.code === 'string' ? e.code : typeof e?.message === 'string' ? e.message : String(err);
    status = `the API server is unreachable (${reason})`;
    fields = { node: name, reason };
  }
  const hint =
    err instanceof KubeApiError && err.status === 404 ? `; is ${variable} set from the Downward API's spec.nodeName?` : '';
  return {
    message:
      `k8s discovery: cannot read Node "${name}" (from ${variable}) to learn this workload's zone: ${status}${hint}; ` +
      'carrying on with no zone (topology hints ignored). Reading it takes `get` on `nodes`, granted by a ClusterRole and ' +
      'ClusterRoleBinding (nodes are cluster-scoped: a Role cannot grant it); or set MESH_ZONE (docs/kubernetes.md)',
    fields: { ...fields, variable },
  };
}
