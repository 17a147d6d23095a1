/**
 * The `status` subresource, as the real API server's strategies apply it:
 * `.status` is written only through `.../<name>/status`, and a write there
 * changes nothing else. Controllers depend on that split: a user's
 * `kubectl apply` cannot wipe the status a controller wrote, and a status
 * write (which carries the resourceVersion it was computed from) cannot
 * change the spec it reports on.
 */
import type { ResourceType } from './resources.js';
import type { KubeObject } from './store.js';

/** Verbs a subresource answers; the others get 405, as from the real server. */
export const SUBRESOURCE_VERBS: readonly string[] = ['get', 'update', 'patch'];

export function hasSubresource(type: ResourceType, subresource: string): boolean {
  return subresource === 'status' && type.statusSubresource;
}

/** The name RBAC rules and 403 messages use: `httproutes/status`, or `httproutes` for the resource itself. */
export function rbacResource(type: ResourceType, subresource: string | undefined): string {
  return subresource === undefined ? type.resource : `${type.resource}/${subresource}`;
}

/** What a create stores: a type with a status subresource starts without one (but the kubelet registers its Node with status, and the Node strategy keeps it). */
export function created(type: ResourceType, body: KubeObject): KubeObject {
  if (!type.statusSubresource || type.resource === 'nodes') return body;
  return withStatusOf(body, undefined);
}

/**
 * What an update (PUT, or a patch applied to the stored object) stores.
 * Through `/status`: the stored object with the body's status, and the
 * body's resourceVersion as the precondition. Through the resource itself:
 * the body with the stored status, when the type has a status subresource.
 */
export function updated(type: ResourceType, subresource: string | undefined, current: KubeObject, body: KubeObject): KubeObject {
  if (subresource === 'status') {
    const withStatus = withStatusOf(current, body.status);
    return { ...withStatus, metadata: { ...current.metadata, resourceVersion: body.metadata?.resourceVersion } };
  }
  return type.statusSubresource ? withStatusOf(body, current.status) : body;
}

function withStatusOf(obj: KubeObject, status: unknown): KubeObject {
  const { status: _dropped, ...rest } = obj;
  return status === undefined ? (rest as KubeObject) : { ...rest, status };
}
