/**
 * What the control plane reads from the cluster in Kubernetes mode: each
 * collection is listed then watched, in one namespace or in all. The RBAC
 * ClusterRole in docs/kubernetes.md and examples/kubernetes/control-plane.yaml
 * grants exactly these (get, list, watch), and patch on the status of the
 * kinds whose status the control plane writes.
 */

export interface WatchedKind {
  /** The kind as manifests spell it. */
  readonly kind: string;
  /**
   * How the control plane names the collection (its object ids, `Kind
   * namespace/name`, and its logs): the kind, unless another group has a
   * kind of that name too (`HTTPRoute.policy.linkerd.io`).
   */
  readonly name: string;
  /** API group ('' for core). */
  readonly group: string;
  readonly version: string;
  /** Plural, as in the URL and in RBAC rules. */
  readonly resource: string;
  /** A CRD (Istio's, the Gateway API's): may not be installed (404), which reads as none of them. */
  readonly optional: boolean;
  /** The control plane writes these objects' `status` (route-status.ts). */
  readonly writesStatus?: true;
}

export const WATCHED_KINDS: readonly WatchedKind[] = [
  { kind: 'Service', name: 'Service', group: '', version: 'v1', resource: 'services', optional: false },
  { kind: 'EndpointSlice', name: 'EndpointSlice', group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices', optional: false },
  // Pod labels, for DestinationRule subsets: slices name each endpoint's pod but carry no labels.
  { kind: 'Pod', name: 'Pod', group: '', version: 'v1', resource: 'pods', optional: false },
  { kind: 'ServiceEntry', name: 'ServiceEntry', group: 'networking.istio.io', version: 'v1', resource: 'serviceentries', optional: true },
  { kind: 'DestinationRule', name: 'DestinationRule', group: 'networking.istio.io', version: 'v1', resource: 'destinationrules', optional: true },
  { kind: 'VirtualService', name: 'VirtualService', group: 'networking.istio.io', version: 'v1', resource: 'virtualservices', optional: true },
  // The Gateway API's routes bound to Services (GAMMA); Gateways themselves are a gateway's business.
  { kind: 'HTTPRoute', name: 'HTTPRoute', group: 'gateway.networking.k8s.io', version: 'v1', resource: 'httproutes', optional: true, writesStatus: true },
  { kind: 'GRPCRoute', name: 'GRPCRoute', group: 'gateway.networking.k8s.io', version: 'v1', resource: 'grpcroutes', optional: true, writesStatus: true },
  // Linkerd's own HTTPRoute, the Gateway API's with GEP-1742 timeouts: read the same; its Server parents (inbound policy) are skipped.
  { kind: 'HTTPRoute', name: 'HTTPRoute.policy.linkerd.io', group: 'policy.linkerd.io', version: 'v1beta3', resource: 'httproutes', optional: true, writesStatus: true },
  // A namespace's consent to other namespaces' routes sending to its Services.
  { kind: 'ReferenceGrant', name: 'ReferenceGrant', group: 'gateway.networking.k8s.io', version: 'v1beta1', resource: 'referencegrants', optional: true },
  { kind: 'PeerAuthentication', name: 'PeerAuthentication', group: 'security.istio.io', version: 'v1', resource: 'peerauthentications', optional: true },
  // Served in each workload's inbound listener (control/inbound-resources.ts).
  { kind: 'AuthorizationPolicy', name: 'AuthorizationPolicy', group: 'security.istio.io', version: 'v1', resource: 'authorizationpolicies', optional: true },
  { kind: 'RequestAuthentication', name: 'RequestAuthentication', group: 'security.istio.io', version: 'v1', resource: 'requestauthentications', optional: true },
];

/** The collection's URL path, in `namespace` or across all namespaces. */
export function collectionPath(k: WatchedKind, namespace: string | undefined): string {
  const prefix = k.group === '' ? `/api/${k.version}` : `/apis/${k.group}/${k.version}`;
  return namespace === undefined ? `${prefix}/${k.resource}` : `${prefix}/namespaces/${namespace}/${k.resource}`;
}

/** `virtualservices.networking.istio.io`, as RBAC and API errors name it. */
export function qualifiedResource(k: WatchedKind): string {
  return k.group === '' ? k.resource : `${k.resource}.${k.group}`;
}
