/**
 * Just enough OpenAPI v3 for kubectl: the root index of group-versions, and
 * per group-version the PATCH operations with their `fieldValidation`
 * parameter. kubectl reads that parameter to learn that the server validates
 * fields itself, and then skips downloading full schemas to validate on the
 * client (which would need the real, megabyte-sized documents).
 */
import { groupVersion, RESOURCE_TYPES, type ResourceType } from './resources.js';

export function openApiDocument(path: string): unknown {
  if (path === '/openapi/v3') {
    const paths: Record<string, { serverRelativeURL: string }> = {};
    for (const t of RESOURCE_TYPES) {
      const gv = gvPath(t);
      paths[gv] = { serverRelativeURL: `/openapi/v3/${gv}?hash=fake` };
    }
    return { paths };
  }
  const gv = path.startsWith('/openapi/v3/') ? path.slice('/openapi/v3/'.length) : undefined;
  if (gv === undefined) return undefined;
  const types = RESOURCE_TYPES.filter((t) => gvPath(t) === gv);
  if (types.length === 0) return undefined;
  const paths: Record<string, unknown> = {};
  for (const t of types) {
    const ns = t.namespaced ? '/namespaces/{namespace}' : '';
    paths[`/${gv}${ns}/${t.resource}/{name}`] = {
      patch: {
        'x-kubernetes-group-version-kind': { group: t.group, version: t.version, kind: t.kind },
        'x-kubernetes-action': 'patch',
        parameters: [
          { name: 'dryRun', in: 'query', schema: { type: 'string', uniqueItems: true } },
          { name: 'fieldManager', in: 'query', schema: { type: 'string', uniqueItems: true } },
          { name: 'fieldValidation', in: 'query', schema: { type: 'string', uniqueItems: true } },
        ],
        responses: { '200': { description: 'OK' } },
      },
    };
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'v1.32.0-fake' },
    paths,
    components: { schemas: {} },
  };
}

function gvPath(t: ResourceType): string {
  return t.group === '' ? `api/${t.version}` : `apis/${groupVersion(t)}`;
}
