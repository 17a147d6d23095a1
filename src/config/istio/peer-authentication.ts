/**
 * Istio PeerAuthentication → this workload's inbound mTLS
 * (`mesh.security.mtls`). Of the resources that apply (same namespace or the
 * root namespace `istio-system`; a selector must match `mesh.labels`), the
 * most specific wins, as in Istio: workload selector, then namespace, then
 * mesh-wide. A mode of UNSET inherits from the next level down.
 */
import { isMap, type Raw, type ResourceReader } from './reader.js';

const ROOT_NAMESPACE = 'istio-system';
const MODES = ['STRICT', 'PERMISSIVE', 'DISABLE', 'UNSET'];

export interface PeerAuthenticationCandidate {
  /** 2 selector, 1 namespace, 0 mesh-wide. */
  readonly level: number;
  readonly mode: string | undefined;
  readonly portLevelMtls: Raw | undefined;
  readonly at: string;
}

export function translatePeerAuthentication(
  doc: Raw,
  r: ResourceReader,
  workload: { namespace: string; labels: Raw },
): PeerAuthenticationCandidate | undefined {
  // Checked whichever workload it is for, so a bad resource is reported even where it does not apply.
  const s = r.child('spec');
  const spec = s.map(doc.spec) ?? {};
  s.only(spec, ['selector', 'mtls', 'portLevelMtls']);
  const selector = spec.selector === undefined ? undefined : (s.child('selector').map(spec.selector) ?? {});
  if (selector !== undefined) s.child('selector').only(selector, ['matchLabels']);
  const mtls = s.child('mtls').map(spec.mtls) ?? {};
  s.child('mtls').only(mtls, ['mode']);
  const mode = mtls.mode === undefined ? undefined : String(mtls.mode);
  if (mode !== undefined && !MODES.includes(mode)) s.child('mtls').issue(`must be one of ${MODES.join(', ')}, got ${JSON.stringify(mode)}`, 'mode');
  let portLevelMtls: Raw | undefined;
  if (spec.portLevelMtls !== undefined) {
    const ports = s.child('portLevelMtls').map(spec.portLevelMtls) ?? {};
    portLevelMtls = Object.fromEntries(Object.entries(ports).map(([port, v]) => [port, isMap(v) ? { mode: v.mode } : v]));
  }
  const meta = isMap(doc.metadata) ? doc.metadata : {};
  const namespace = typeof meta.namespace === 'string' ? meta.namespace : workload.namespace;
  if (namespace !== workload.namespace && namespace !== ROOT_NAMESPACE) return undefined;
  let level = namespace === ROOT_NAMESPACE && workload.namespace !== ROOT_NAMESPACE ? 0 : 1;
  if (selector !== undefined) {
    const labels = isMap(selector.matchLabels) ? selector.matchLabels : {};
    if (!Object.entries(labels).every(([k, v]) => workload.labels[k] === v)) return undefined;
    level = 2;
  }
  return { level, mode: mode === 'UNSET' ? undefined : mode, portLevelMtls, at: r.at };
}

/** The mtls block the candidates add up to, or issues when two at one level disagree. */
export function resolvePeerAuthentication(candidates: readonly PeerAuthenticationCandidate[], r: ResourceReader): Raw | undefined {
  const ordered = [...candidates].sort((a, b) => b.level - a.level);
  for (let i = 1; i < ordered.length; i++) {
    if (ordered[i]!.level === ordered[i - 1]!.level) {
      r.issue(`${ordered[i]!.at} and ${ordered[i - 1]!.at} both apply to this workload at the same level; keep one`);
    }
  }
  const mode = ordered.find((c) => c.mode !== undefined)?.mode;
  const ports = ordered.find((c) => c.portLevelMtls !== undefined)?.portLevelMtls;
  if (mode === undefined && ports === undefined) return undefined;
  return { ...(mode !== undefined ? { mode } : {}), ...(ports !== undefined ? { portLevelMtls: ports } : {}) };
}
