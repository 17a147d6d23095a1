/**
 * An EDS endpoint's labels, for Istio's `destination_version` and
 * `destination_app` (and anything else that reads an endpoint's labels):
 * - proxyless's control plane writes the pod's labels in
 *   `metadata.filter_metadata["io.proxyless"].labels`;
 * - istiod writes `metadata.filter_metadata.istio.workload`,
 *   `<workload>;<namespace>;<canonical service>;<canonical revision>;<cluster>`,
 *   read here as `app` and `version`, the labels Istio's own telemetry takes
 *   those two from.
 * Without either the endpoint has no labels, and the metrics say `unknown`.
 */
import { labelsSchema } from '../../config/label-schema.js';
import { toConfigIssues } from '../../config/validate.js';
import type { Warn } from './decode-route-action.js';
import type { ProtoReader } from './proto-reader.js';
import { PROXYLESS_METADATA } from './proxyless-metadata.js';
import { fromStruct } from './struct-json.js';

export function endpointLabels(lbEndpoint: ProtoReader, warn: Warn): Record<string, string> | undefined {
  const meta = lbEndpoint.msg('metadata')?.msg('filter_metadata');
  if (meta === undefined) return undefined;
  const own = meta.msg(PROXYLESS_METADATA);
  if (own !== undefined) {
    const labels = fromStruct(own).labels;
    if (labels === undefined) return undefined;
    const parsed = labelsSchema.safeParse(labels);
    if (!parsed.success) {
      const issue = toConfigIssues(parsed.error.issues, labels)[0];
      own.fail('labels', `${issue?.path ? `${issue.path}: ` : ''}${issue?.message ?? 'must map label names to strings'}`);
    }
    return parsed.data;
  }
  const istio = meta.msg('istio');
  if (istio === undefined) return undefined;
  const workload = fromStruct(istio).workload;
  if (typeof workload !== 'string') return undefined;
  const parts = workload.split(';');
  // Telemetry alone reads these: a shape we do not know is skipped with a warning, not refused.
  if (parts.length < 4) {
    warn(istio.at('workload'), `is not "<workload>;<namespace>;<canonical service>;<canonical revision>;…"; the endpoint's app and version are unknown`);
    return undefined;
  }
  const out: Record<string, string> = {};
  if (parts[2] !== '') out.app = parts[2]!;
  if (parts[3] !== '') out.version = parts[3]!;
  return out;
}
