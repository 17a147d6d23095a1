/**
 * Istio's source conditions (`sourceLabels`, `sourceNamespace`) on route
 * match entries. A sidecar settles them against its own workload when its
 * routes are built, never per request: the calling workload is always the
 * same one, this process. The client settles them against `mesh.labels`
 * and `mesh.namespace`; the control plane against each client's node
 * metadata (LABELS, NAMESPACE), as istiod does.
 */
import type { MatchEntry } from '../config/route-match-schema.js';

/** The workload a route table is built for. */
export interface RouteSource {
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** Whether `entry`'s source conditions hold in `source` (true when it has none). */
export function entryAppliesTo(entry: MatchEntry | undefined, source: RouteSource): boolean {
  if (entry === undefined) return true;
  if (entry.sourceNamespace !== undefined && entry.sourceNamespace !== source.namespace) return false;
  const wanted = entry.sourceLabels;
  if (wanted === undefined) return true;
  for (const key of Object.keys(wanted)) if (source.labels[key] !== wanted[key]) return false;
  return true;
}

/** Whether any entry of `routes` has a source condition, so their tables differ by workload. */
export function hasSourceConditions(routes: readonly { readonly match?: readonly MatchEntry[] | undefined }[] | undefined): boolean {
  return (routes ?? []).some((r) => (r.match ?? []).some((m) => m.sourceLabels !== undefined || m.sourceNamespace !== undefined));
}
