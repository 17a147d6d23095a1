/**
 * The resource types the fake API server knows, and the discovery documents
 * kubectl reads to map a manifest's kind to a URL: core v1 (Nodes among them), apps/v1,
 * discovery.k8s.io/v1, rbac.authorization.k8s.io/v1 and Istio's
 * networking.istio.io and security.istio.io (v1 and v1beta1), and the
 * Gateway API's HTTPRoute (gateway.networking.k8s.io v1 and v1beta1),
 * GRPCRoute (v1) and ReferenceGrant (v1beta1), and Linkerd's HTTPRoute
 * (policy.linkerd.io v1beta3).
 *
 * The types that have a `status` subresource in a real cluster say so
 * (`statusSubresource`): discovery then lists `<resource>/status` beside
 * them, as kubectl and RBAC see it. ReferenceGrant, RBAC types, ConfigMaps,
 * ServiceAccounts and EndpointSlices have none there, so none here.
 */

export interface ResourceType {
  readonly group: string;
  readonly version: string;
  /** Plural, as in the URL. */
  readonly resource: string;
  readonly singular: string;
  readonly kind: string;
  readonly namespaced: boolean;
  readonly shortNames?: readonly string[];
  /** Whether `.../<resource>/<name>/status` exists, and so whether `.status` is written only there. */
  readonly statusSubresource: boolean;
}

const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
/** A status subresource can only be read and written, never listed, watched, created or deleted. */
const STATUS_VERBS = ['get', 'patch', 'update'];

function rt(group: string, version: string, resource: string, kind: string, namespaced = true, shortNames?: string[]): ResourceType {
  return { group, version, resource, singular: kind.toLowerCase(), kind, namespaced, ...(shortNames ? { shortNames } : {}), statusSubresource: false };
}

function withStatus(t: ResourceType): ResourceType {
  return { ...t, statusSubresource: true };
}

export const RESOURCE_TYPES: readonly ResourceType[] = [
  withStatus(rt('', 'v1', 'namespaces', 'Namespace', false, ['ns'])),
  withStatus(rt('', 'v1', 'nodes', 'Node', false, ['no'])),
  withStatus(rt('', 'v1', 'services', 'Service', true, ['svc'])),
  rt('', 'v1', 'serviceaccounts', 'ServiceAccount', true, ['sa']),
  rt('', 'v1', 'configmaps', 'ConfigMap', true, ['cm']),
  withStatus(rt('', 'v1', 'pods', 'Pod', true, ['po'])),
  withStatus(rt('apps', 'v1', 'deployments', 'Deployment', true, ['deploy'])),
  rt('discovery.k8s.io', 'v1', 'endpointslices', 'EndpointSlice'),
  rt('rbac.authorization.k8s.io', 'v1', 'roles', 'Role'),
  rt('rbac.authorization.k8s.io', 'v1', 'rolebindings', 'RoleBinding'),
  rt('rbac.authorization.k8s.io', 'v1', 'clusterroles', 'ClusterRole', false),
  rt('rbac.authorization.k8s.io', 'v1', 'clusterrolebindings', 'ClusterRoleBinding', false),
  ...['v1', 'v1beta1'].flatMap((v) => [
    withStatus(rt('networking.istio.io', v, 'virtualservices', 'VirtualService', true, ['vs'])),
    withStatus(rt('networking.istio.io', v, 'destinationrules', 'DestinationRule', true, ['dr'])),
    withStatus(rt('networking.istio.io', v, 'serviceentries', 'ServiceEntry', true, ['se'])),
    withStatus(rt('security.istio.io', v, 'peerauthentications', 'PeerAuthentication', true, ['pa'])),
    withStatus(rt('security.istio.io', v, 'authorizationpolicies', 'AuthorizationPolicy', true, ['ap'])),
    withStatus(rt('security.istio.io', v, 'requestauthentications', 'RequestAuthentication', true, ['ra'])),
  ]),
  ...['v1', 'v1beta1'].map((v) => withStatus(rt('gateway.networking.k8s.io', v, 'httproutes', 'HTTPRoute'))),
  withStatus(rt('gateway.networking.k8s.io', 'v1', 'grpcroutes', 'GRPCRoute')),
  rt('gateway.networking.k8s.io', 'v1beta1', 'referencegrants', 'ReferenceGrant', true, ['refgrant']),
  // Linkerd's HTTPRoute: a second kind of that name, listed after the Gateway API's, so a bare `kubectl get httproute` means theirs.
  withStatus(rt('policy.linkerd.io', 'v1beta3', 'httproutes', 'HTTPRoute')),
];

export function groupVersion(t: { group: string; version: string }): string {
  return t.group === '' ? t.version : `${t.group}/${t.version}`;
}

export function findType(group: string, version: string, resource: string): ResourceType | undefined {
  return RESOURCE_TYPES.find((t) => t.group === group && t.version === version && t.resource === resource);
}

/** The discovery document at `path`, or undefined when the path is not a discovery path. */
export function discoveryDocument(path: string): unknown {
  if (path === '/version') {
    return {
      major: '1',
      minor: '32',
      gitVersion: 'v1.32.0-fake',
      gitCommit: '0000000000000000000000000000000000000000',
      gitTreeState: 'clean',
      buildDate: '2026-01-01T00:00:00Z',
      goVersion: 'go1.23',
      compiler: 'gc',
      platform: 'linux/amd64',
    };
  }
  if (path === '/api') {
    return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '' }] };
  }
  if (path === '/apis') return { kind: 'APIGroupList', apiVersion: 'v1', groups: groups() };
  const m = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))$/.exec(path);
  if (m === null) return undefined;
  const group = m[1] !== undefined ? '' : m[2]!;
  const version = m[1] ?? m[3]!;
  const types = RESOURCE_TYPES.filter((t) => t.group === group && t.version === version);
  if (types.length === 0) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: groupVersion({ group, version }),
    resources: types.flatMap((t) => [
      {
        name: t.resource,
        singularName: t.singular,
        namespaced: t.namespaced,
        kind: t.kind,
        verbs: VERBS,
        ...(t.shortNames ? { shortNames: t.shortNames } : {}),
      },
      // The real server's entry for a subresource: no singular name, no short names, its own verbs.
      ...(t.statusSubresource ? [{ name: `${t.resource}/status`, singularName: '', namespaced: t.namespaced, kind: t.kind, verbs: STATUS_VERBS }] : []),
    ]),
  };
}

function groups(): unknown[] {
  const names = [...new Set(RESOURCE_TYPES.filter((t) => t.group !== '').map((t) => t.group))];
  return names.map((name) => {
    const versions = [...new Set(RESOURCE_TYPES.filter((t) => t.group === name).map((t) => t.version))];
    const list = versions.map((version) => ({ groupVersion: `${name}/${version}`, version }));
    return { name, versions: list, preferredVersion: list[0] };
  });
}
