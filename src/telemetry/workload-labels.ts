/**
 * The workload label objects requests are recorded with, built once and
 * reused: the metrics index keys series by object identity first, so a new
 * object per request would cost a key build each time.
 */
import type { DestinationLabels, WorkloadLabels } from './request-record.js';
import { UNKNOWN } from './request-record.js';

export interface SelfDescription {
  readonly serviceName: string | undefined;
  readonly namespace: string;
  readonly clusterDomain: string;
  readonly labels: Readonly<Record<string, string>>;
  /** `spiffe://…`, when the mesh has a workload certificate. */
  readonly spiffeId: string | undefined;
}

/** Istio's canonical-service labels, else the `app` and `version` labels, as Istio derives them. */
export function selfLabels(self: SelfDescription): WorkloadLabels {
  const app = self.labels.app ?? self.serviceName ?? UNKNOWN;
  const version = self.labels.version ?? UNKNOWN;
  return Object.freeze({
    workload: self.serviceName ?? app,
    namespace: self.namespace,
    principal: self.spiffeId ?? UNKNOWN,
    app,
    version,
    canonicalService: self.labels['service.istio.io/canonical-name'] ?? app,
    canonicalRevision: self.labels['service.istio.io/canonical-revision'] ?? (version === UNKNOWN ? 'latest' : version),
    cluster: UNKNOWN,
  });
}

/** Bounded: one entry per (service, version) the config and endpoints can name. */
const MAX_CACHED = 4096;

/** Destination labels as the client knows them: the service, and the version label of the endpoint that answered. */
export class DestinationLabelCache {
  readonly clusterDomain: string;
  #cache = new Map<string, DestinationLabels>();

  constructor(clusterDomain: string) {
    this.clusterDomain = clusterDomain;
  }

  // An endpoint object is rebuilt whenever discovery changes it, so caching by
  // identity never serves stale labels, and costs one WeakMap read per call.
  readonly #byEndpoint = new WeakMap<object, DestinationLabels>();

  /** The labels for a call answered by `endpoint` (or by none: a local reply or failure). */
  forEndpoint(
    service: string,
    namespace: string,
    endpoint: { readonly labels: Readonly<Record<string, string>> } | undefined,
  ): DestinationLabels {
    if (endpoint === undefined) return this.get(service, namespace, undefined, undefined);
    let labels = this.#byEndpoint.get(endpoint);
    if (labels === undefined || labels.serviceName !== service || labels.namespace !== namespace) {
      labels = this.get(service, namespace, endpoint.labels.version, endpoint.labels.app);
      this.#byEndpoint.set(endpoint, labels);
    }
    return labels;
  }

  get(service: string, namespace: string, version: string | undefined, app: string | undefined): DestinationLabels {
    const key = `${service}\u0000${namespace}\u0000${version ?? ''}\u0000${app ?? ''}`;
    let labels = this.#cache.get(key);
    if (labels === undefined) {
      if (this.#cache.size >= MAX_CACHED) this.#cache = new Map();
      labels = Object.freeze({
        workload: UNKNOWN,
        namespace,
        principal: UNKNOWN,
        app: app ?? service,
        version: version ?? UNKNOWN,
        canonicalService: app ?? service,
        canonicalRevision: version ?? 'latest',
        cluster: UNKNOWN,
        service: `${service}.${namespace}.svc.${this.clusterDomain}`,
        serviceName: service,
        serviceNamespace: namespace,
      });
      this.#cache.set(key, labels);
    }
    return labels;
  }
}

/** Source labels for an inbound caller, from its SPIFFE identity (all the server knows of it). */
export class PeerLabelCache {
  #cache = new Map<string, WorkloadLabels>();
  /** The last caller's principal and labels: one comparison for a repeat caller (every plaintext one). */
  #lastPrincipal: string | undefined;
  #last: WorkloadLabels | undefined;

  get(principal: string | undefined, namespace: string | undefined): WorkloadLabels {
    const last = this.#last;
    if (principal === this.#lastPrincipal && last !== undefined) return last;
    const labels = this.#get(principal, namespace);
    this.#lastPrincipal = principal;
    this.#last = labels;
    return labels;
  }

  #get(principal: string | undefined, namespace: string | undefined): WorkloadLabels {
    const key = principal ?? '';
    let labels = this.#cache.get(key);
    if (labels === undefined) {
      if (this.#cache.size >= MAX_CACHED) this.#cache = new Map();
      labels = Object.freeze({
        workload: UNKNOWN,
        namespace: namespace ?? UNKNOWN,
        principal: principal === undefined ? UNKNOWN : `spiffe://${principal}`,
        app: UNKNOWN,
        version: UNKNOWN,
        canonicalService: UNKNOWN,
        canonicalRevision: UNKNOWN,
        cluster: UNKNOWN,
      });
      this.#cache.set(key, labels);
    }
    return labels;
  }
}
