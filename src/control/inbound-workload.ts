/**
 * Who asks for an inbound listener, and what applies to it.
 *
 * - The listener name: istiod's `xds.istio.io/grpc/lds/inbound/<ip>:<port>`
 *   (the bootstrap's `server_listener_resource_name_template`), `[v6]:port`
 *   for IPv6.
 * - The workload: the client's node, read as istiod reads it: metadata
 *   `NAMESPACE` (else the namespace in a `sidecar~ip~pod.ns~…` node id, else
 *   `default`) and metadata `LABELS` (a map of the pod's labels).
 * - What applies: the AuthorizationPolicies, RequestAuthentications and
 *   PeerAuthentications in the workload's namespace or the root namespace
 *   (`istio-system`, mesh-wide) whose selector's labels the workload has.
 */

import type { ConfigIssue } from '../config/config-error.js';
import { type PeerAuthenticationCandidate, resolvePeerAuthentication, translatePeerAuthentication } from '../config/istio/peer-authentication.js';
import { isMap, type Raw, ResourceReader, resourceLabel } from '../config/istio/reader.js';
import { MTLS_MODES, type MtlsModeName } from '../config/security-schema.js';
import type { AuthorizationPolicy } from '../security/authz/model.js';
import { DEFAULT_ROOT_NAMESPACE } from '../security/authz/model.js';
import { appliesTo } from '../security/jwt/applicability.js';
import type { RequestAuthenticationPolicy } from '../security/jwt/model.js';

export const INBOUND_PREFIX = 'xds.istio.io/grpc/lds/inbound/';

export interface InboundWorkload {
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** The security resources of a config, as the control plane keeps them for inbound listeners. */
export interface InboundInputs {
  readonly authorizationPolicies: readonly AuthorizationPolicy[];
  readonly requestAuthentications: readonly RequestAuthenticationPolicy[];
  /** PeerAuthentication resources as written (translated per workload). */
  readonly peerAuthentications: readonly unknown[];
  /** Where policies without a namespace live: the config's `mesh.namespace`. */
  readonly namespace: string;
}

/** `{ ip, port }` for an inbound listener name, or undefined for any other name. */
export function inboundAddress(name: string): { ip: string; port: number } | undefined {
  if (!name.startsWith(INBOUND_PREFIX)) return undefined;
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(name.slice(INBOUND_PREFIX.length));
  if (m === null || Number(m[3]) > 65535) return undefined;
  return { ip: m[1] ?? m[2]!, port: Number(m[3]) };
}

/** A google.protobuf.Struct value as proto-loader hands it over, made plain. */
function plain(value: unknown): unknown {
  if (!isMap(value)) return value;
  if (isMap(value.fields)) return Object.fromEntries(Object.entries(value.fields).map(([k, v]) => [k, plain(v)]));
  const kind = typeof value.kind === 'string' ? value.kind : Object.keys(value).find((k) => /value$/i.test(k));
  if (kind === undefined) return value;
  const inner = value[kind];
  if (/struct/i.test(kind)) return plain(inner);
  if (/list/i.test(kind)) return isMap(inner) && Array.isArray(inner.values) ? inner.values.map(plain) : [];
  return inner;
}

export function workloadOf(node: { id?: string; metadata?: unknown } | null | undefined): InboundWorkload {
  const meta = plain(node?.metadata);
  const m = isMap(meta) ? meta : {};
  const fromId = /^[^~]+~[^~]*~[^.~]+\.([a-z0-9-]+)~/.exec(node?.id ?? '')?.[1];
  const namespace = typeof m.NAMESPACE === 'string' && m.NAMESPACE !== '' ? m.NAMESPACE : (fromId ?? 'default');
  const labels: Record<string, string> = {};
  if (isMap(m.LABELS)) for (const [k, v] of Object.entries(m.LABELS)) if (typeof v === 'string') labels[k] = v;
  return { namespace, labels };
}

function selects(selector: Readonly<Record<string, string>> | undefined, labels: Readonly<Record<string, string>>): boolean {
  if (selector === undefined) return true;
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

export interface WorkloadSecurity {
  readonly authorizationPolicies: readonly AuthorizationPolicy[];
  readonly requestAuthentications: readonly RequestAuthenticationPolicy[];
  readonly mode: MtlsModeName;
}

/** What applies to `workload` on `port`; problems with PeerAuthentications go to `issues`. */
export function workloadSecurity(inputs: InboundInputs, workload: InboundWorkload, port: number, issues: ConfigIssue[]): WorkloadSecurity {
  const root = DEFAULT_ROOT_NAMESPACE;
  const inScope = (ns: string) => ns === workload.namespace || ns === root;
  const authorizationPolicies = inputs.authorizationPolicies
    .map((p) => (p.namespace === undefined ? { ...p, namespace: inputs.namespace } : p))
    .filter((p) => inScope(p.namespace!) && selects(p.selector, workload.labels));
  const requestAuthentications = inputs.requestAuthentications.filter((p) =>
    appliesTo(p, { namespace: workload.namespace, labels: workload.labels, rootNamespace: root }),
  );
  const candidates: PeerAuthenticationCandidate[] = [];
  inputs.peerAuthentications.forEach((doc, i) => {
    if (!isMap(doc)) return;
    const c = translatePeerAuthentication(doc, new ResourceReader(issues, resourceLabel(i, doc)), {
      namespace: workload.namespace,
      labels: workload.labels as Raw,
    });
    if (c !== undefined) candidates.push(c);
  });
  const mtls = candidates.length > 0 ? resolvePeerAuthentication(candidates, new ResourceReader(issues, 'PeerAuthentication')) : undefined;
  const ports = isMap(mtls?.portLevelMtls) ? mtls.portLevelMtls : {};
  const portMode = isMap(ports[String(port)]) ? (ports[String(port)] as Raw).mode : undefined;
  const mode = (typeof portMode === 'string' && portMode !== 'UNSET' ? portMode : (mtls?.mode as string | undefined)) ?? 'PERMISSIVE';
  if (!(MTLS_MODES as readonly string[]).includes(mode)) {
    issues.push({ path: `PeerAuthentication portLevelMtls["${port}"].mode`, message: `must be one of ${MTLS_MODES.join(', ')}, got ${JSON.stringify(mode)}` });
  }
  return { authorizationPolicies, requestAuthentications, mode: mode as MtlsModeName };
}
