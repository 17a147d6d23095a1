/**
 * Kubernetes Services and their EndpointSlices as config-model services
 * (the raw input validateConfig takes), the same model a mesh file holds:
 * - one config service per Service port: the first under the Service's
 *   name, each other one as `<name>-<port name>` (or `-<number>`) that
 *   reports as the Service (`reportAs`), so its xDS names are the Service's
 *   on that port (`reviews.shop.svc.cluster.local:9090`,
 *   `outbound|9090||reviews.shop.svc.cluster.local`, resource-names.ts);
 * - an ExternalName Service resolves its `externalName` by DNS on each of
 *   its ports (as a sidecar's DNS cluster for it does);
 * - endpoints from the slices with the data plane's own merge
 *   (slice-endpoints.ts: conditions, terminating, dual-stack, duplicates)
 *   and the port each slice carries for that Service port;
 * - each endpoint's pod labels (read from the Pod its targetRef names), so
 *   DestinationRule subsets select by label as in Istio;
 * - Linkerd's retry and timeout annotations on the Service as the service's
 *   `retries` and `timeout` (istio/linkerd-policy.ts), on each of its ports;
 *   one that cannot be honoured is reported and the rest applied.
 * The model keys services by name: a Service whose name another namespace
 * already took (the mesh namespace first, then alphabetical) is keyed
 * `<name>-<namespace>` and reports as its name (`api-backend`, reporting as
 * `api` in `backend`), so its xDS names are its own Service's
 * (`api.backend.svc.cluster.local:8080`); only when that key is taken too
 * is it skipped and reported, never merged.
 */

import type { ConfigIssue } from '../../config/config-error.js';
import { linkerdPolicy } from '../../config/istio/linkerd-policy.js';
import { type Raw, ResourceReader } from '../../config/istio/reader.js';
import { DNS_LABEL } from '../../config/label-schema.js';
import { portInSlice, resolvePort, type SlicePortMatch } from '../../discovery/kubernetes/ports.js';
import type { EndpointSliceObject, ServiceObject, ServicePort, SliceEndpoint } from '../../discovery/kubernetes/resources.js';
import { sliceEndpoints } from '../../discovery/kubernetes/slice-endpoints.js';

export interface ObjectMeta {
  readonly name?: string;
  readonly namespace?: string;
  readonly labels?: Readonly<Record<string, string>>;
  /** Only Linkerd's retry and timeout ones are kept (cluster-watch.ts). */
  readonly annotations?: Readonly<Record<string, string>>;
}

export type ClusterService = ServiceObject & { readonly metadata?: ObjectMeta };
export type ClusterSlice = EndpointSliceObject & {
  readonly metadata?: ObjectMeta;
  readonly endpoints?: readonly (SliceEndpoint & { readonly targetRef?: { kind?: string; name?: string; namespace?: string } })[] | null;
};

export interface ClusterServiceInputs {
  readonly services: Iterable<ClusterService>;
  readonly slices: Iterable<ClusterSlice>;
  /** Pod labels by `namespace/name`. */
  readonly podLabels: ReadonlyMap<string, Readonly<Record<string, string>>>;
  /** Whose same-named Services win. */
  readonly meshNamespace: string;
}

export interface ClusterServices {
  readonly services: Raw;
  /** `namespace/name` of Services left out, with why. */
  readonly skipped: readonly string[];
  /** Annotations of Services that are served without them, each `Service ns/name.metadata.annotations[...]: why`. */
  readonly ignored: readonly string[];
}

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export function clusterServices(inputs: ClusterServiceInputs): ClusterServices {
  const slicesOf = new Map<string, ClusterSlice[]>();
  for (const slice of inputs.slices) {
    const owner = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
    if (owner === undefined) continue;
    const key = `${slice.metadata?.namespace ?? ''}/${owner}`;
    const list = slicesOf.get(key);
    if (list === undefined) slicesOf.set(key, [slice]);
    else list.push(slice);
  }
  const ordered = [...inputs.services].sort((a, b) => rank(a, inputs.meshNamespace).localeCompare(rank(b, inputs.meshNamespace)));
  const services: Raw = {};
  const skipped: string[] = [];
  const issues: ConfigIssue[] = [];
  const own: { svc: ClusterService; ns: string; name: string }[] = [];
  for (const svc of ordered) {
    const name = svc.metadata?.name;
    const ns = svc.metadata?.namespace ?? inputs.meshNamespace;
    const ports = svc.spec?.ports ?? [];
    if (name === undefined) continue;
    if (ports.length === 0 || typeof ports[0]!.port !== 'number') {
      skipped.push(`${ns}/${name} (no ports: an ExternalName or selector-less Service without ports; name the port callers use)`);
      continue;
    }
    own.push({ svc, ns, name });
  }
  const slicesFor = (ns: string, name: string) => slicesOf.get(`${ns}/${name}`) ?? [];
  // Each Service's own name first (the mesh namespace's, then by namespace), so the keys made
  // for a namespace's copy of a name or for a port never take a Service's name.
  const keyed: { svc: ClusterService; ns: string; name: string; key: string }[] = [];
  const renamed: typeof own = [];
  for (const entry of own) {
    if (services[entry.name] !== undefined) {
      renamed.push(entry);
      continue;
    }
    services[entry.name] = portService(entry.svc, entry.ns, entry.svc.spec!.ports![0]!, slicesFor(entry.ns, entry.name), inputs.podLabels, issues);
    keyed.push({ ...entry, key: entry.name });
  }
  for (const entry of renamed) {
    const key = fitted([`${entry.name}-${entry.ns}`]);
    if (key === undefined || services[key] !== undefined) {
      const other = (services[entry.name] as Raw).namespace as string;
      const why = key === undefined ? `${entry.name}-${entry.ns} is too long for a name` : `${key} is taken too`;
      skipped.push(`${entry.ns}/${entry.name} (the name is taken by the Service in namespace ${other}, and ${why})`);
      continue;
    }
    services[key] = { ...portService(entry.svc, entry.ns, entry.svc.spec!.ports![0]!, slicesFor(entry.ns, entry.name), inputs.podLabels, issues), reportAs: entry.name };
    keyed.push({ ...entry, key });
  }
  for (const { svc, ns, name, key: base } of keyed) {
    for (const port of (svc.spec?.ports ?? []).slice(1)) {
      if (typeof port.port !== 'number' || (port.protocol !== undefined && port.protocol !== 'TCP')) continue;
      const key = portKey(base, port);
      const what = `${ns}/${name} port ${port.name || port.port}`;
      if (key === undefined) {
        skipped.push(`${what} (the Service's name is too long to add the port to)`);
        continue;
      }
      if (services[key] !== undefined) {
        skipped.push(`${what} (its name ${key} is taken)`);
        continue;
      }
      services[key] = { ...portService(svc, ns, port, slicesFor(ns, name), inputs.podLabels, []), reportAs: name };
    }
  }
  return { services, skipped, ignored: issues.map((i) => `${i.path}: ${i.message}`) };
}

/** One port of a Service as a config service: that port's endpoints, from each slice's port of the same name. */
function portService(
  svc: ClusterService,
  ns: string,
  port: ServicePort,
  slices: readonly ClusterSlice[],
  podLabels: ClusterServiceInputs['podLabels'],
  /** Where a bad annotation is reported: each Service's first port reports, the others apply the same policy quietly. */
  issues: ConfigIssue[],
): Raw {
  const reader = new ResourceReader(issues, `Service ${ns}/${svc.metadata?.name ?? ''}.metadata.annotations`);
  const { retries, timeout } = linkerdPolicy(svc.metadata?.annotations, reader, 'Service');
  const policy = { ...(retries === undefined ? {} : { retries }), ...(timeout === undefined ? {} : { timeout }) };
  // A DNS alias: callers reach the name it gives on the port they call, as through cluster DNS's CNAME.
  const external = svc.spec?.type === 'ExternalName' ? svc.spec.externalName : undefined;
  if (typeof external === 'string' && external !== '') return { namespace: ns, port: port.port, discovery: `dns:${external}:${port.port}`, ...policy };
  const only = (svc.spec?.ports ?? []).length === 1;
  const match = resolvePort(only ? { kind: 'only' } : { kind: 'name', name: port.name ?? '' }, svc, slices);
  const endpoints = typeof match === 'string' ? [] : sliceEndpoints(slices, match, '');
  const labels: Map<string, Readonly<Record<string, string>>> = typeof match === 'string' ? new Map() : endpointLabels(slices, match, ns, podLabels);
  return {
    namespace: ns,
    port: port.port,
    ...policy,
    endpoints: endpoints.map((ep) => {
      const l = labels.get(`${ep.address} ${ep.port}`);
      return { address: ep.address, port: ep.port, ...(ep.zone !== '' ? { zone: ep.zone } : {}), ...(l !== undefined ? { labels: l } : {}) };
    }),
  };
}

/** `reviews-admin` for port "admin", else `reviews-9901`; undefined when neither fits a DNS label. */
function portKey(name: string, port: ServicePort): string | undefined {
  return fitted([...(port.name !== undefined && port.name !== '' ? [`${name}-${port.name}`] : []), `${name}-${port.port}`]);
}

/** The first candidate that is a DNS label, as config keys must be. */
function fitted(candidates: readonly string[]): string | undefined {
  return candidates.find((key) => key.length <= 63 && DNS_LABEL.test(key));
}

/** The mesh namespace sorts first, so its Services keep their short names. */
function rank(svc: ClusterService, meshNamespace: string): string {
  const ns = svc.metadata?.namespace ?? meshNamespace;
  return `${ns === meshNamespace ? '0' : '1'}${ns}/${svc.metadata?.name ?? ''}`;
}

/** Pod labels by `address port`, through each endpoint's targetRef. */
function endpointLabels(
  slices: readonly ClusterSlice[],
  match: SlicePortMatch,
  namespace: string,
  podLabels: ReadonlyMap<string, Readonly<Record<string, string>>>,
): Map<string, Readonly<Record<string, string>>> {
  const out = new Map<string, Readonly<Record<string, string>>>();
  if (podLabels.size === 0) return out;
  for (const slice of slices) {
    const port = portInSlice(slice, match);
    if (port === undefined) continue;
    for (const ep of slice.endpoints ?? []) {
      const ref = ep.targetRef;
      const address = ep.addresses?.[0];
      if (ref?.kind !== 'Pod' || ref.name === undefined || address === undefined) continue;
      const labels = podLabels.get(`${ref.namespace ?? namespace}/${ref.name}`);
      if (labels !== undefined && Object.keys(labels).length > 0) out.set(`${address} ${port}`, labels);
    }
  }
  return out;
}
