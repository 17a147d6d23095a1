/**
 * `proxyless control-plane --kubernetes`: the control plane's config read
 * from the cluster. Services, EndpointSlices and Pods become config-model
 * services (cluster-services.ts); the Istio resources go through the very
 * translator a mesh file's Istio documents go through (config/istio), and
 * the result through the control plane's usual validate-and-snapshot path.
 *
 * One bad object must not take the mesh down: when an Istio resource is
 * rejected (the error names it, `VirtualService shop/reviews`, and the
 * field), its last accepted version keeps being used (or, if it never had
 * one, it is left out), and everything else, endpoints included, keeps
 * following the cluster. Fixing the object brings it back.
 *
 * What became of each Gateway API route is written to its `status`
 * (route-status.ts): accepted, or refused with the reason and whether an
 * earlier generation keeps serving.
 */
import { ConfigError, type ConfigIssue } from '../../config/config-error.js';
import { applyIstioResources, type IstioDocument } from '../../config/istio/istio-resources.js';
import type { Raw } from '../../config/istio/reader.js';
import { KubeApiClient } from '../../discovery/kubernetes/api-client.js';
import { loadClusterConfig } from '../../discovery/kubernetes/cluster-config.js';
import type { MeshLogger } from '../../telemetry/logger.js';
import type { ConfigInput, ConfigInputSink } from '../config-input.js';
import { type ClusterService, type ClusterSlice, clusterServices } from './cluster-services.js';
import { ClusterWatch } from './cluster-watch.js';
import { concernedObjects } from './concerned-objects.js';
import { blamePolicies, policyLists } from './policy-lists.js';
import type { RouteVerdict } from './route-status.js';
import { type KeptRoute, RouteStatusWriter } from './route-status-writer.js';
import { WATCHED_KINDS } from './watched-kinds.js';

export interface KubernetesInputOptions {
  /** Watch one namespace; default all. */
  readonly namespace?: string;
  /** A kubeconfig file; default KUBECONFIG, in-cluster config, then ~/.kube/config. */
  readonly kubeconfig?: string;
  /** Whose Services keep their short name when names collide across namespaces; default `default`. */
  readonly meshNamespace?: string;
  readonly logger: MeshLogger;
  /** Milliseconds to coalesce cluster events over; default 100. */
  readonly debounceMs?: number;
  /** Server-side watch timeout in seconds; default 300. */
  readonly watchTimeoutSeconds?: number;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

const ISTIO_KINDS = WATCHED_KINDS.filter((k) => k.optional).map((k) => k.name);
const STATUS_KINDS = WATCHED_KINDS.filter((k) => k.writesStatus === true);

export class KubernetesInput implements ConfigInput {
  readonly description: string;
  /** EndpointSlices give zones only; a cluster's zones lie in one region. */
  readonly oneRegion = true;
  readonly #options: KubernetesInputOptions;
  readonly #watch: ClusterWatch;
  #client: Promise<KubeApiClient> | undefined;
  #sink: ConfigInputSink | undefined;
  /** Istio objects as last served, by `Kind namespace/name`. */
  #accepted = new Map<string, Raw>();
  /** Objects rejected as they are now (JSON), so an unchanged bad object is not reported on every rebuild, and why. */
  readonly #rejected = new Map<string, { readonly json: string; readonly issues: readonly ConfigIssue[] }>();
  /** The generation of each route as last served (routes only: their status names it). */
  #acceptedGenerations = new Map<string, number>();
  readonly #status: RouteStatusWriter;
  #lastOffered: string | undefined;
  #context: string | undefined;
  #skippedReported = '';
  #ignoredReported = '';

  constructor(options: KubernetesInputOptions) {
    this.#options = options;
    this.description = `Kubernetes cluster (${options.namespace === undefined ? 'all namespaces' : `namespace ${options.namespace}`})`;
    this.#watch = new ClusterWatch({
      client: () => this.#clientOnce(),
      namespace: options.namespace,
      logger: options.logger,
      debounceMs: options.debounceMs ?? 100,
      watchTimeoutSeconds: options.watchTimeoutSeconds ?? 300,
      onChange: () => {
        try {
          this.#rebuild();
        } catch (err) {
          this.#sink?.rejected(err);
        }
      },
    });
    this.#status = new RouteStatusWriter({ client: () => this.#clientOnce(), logger: options.logger });
  }

  async start(sink: ConfigInputSink): Promise<void> {
    this.#sink = sink;
    await this.#watch.start();
    this.#rebuild(true);
  }

  close(): void {
    this.#sink = undefined;
    this.#status.close();
    this.#watch.close();
    void this.#client?.then((c) => c.destroy()).catch(() => {});
  }

  #clientOnce(): Promise<KubeApiClient> {
    this.#client ??= loadClusterConfig(this.#options.env ?? process.env, {
      ...(this.#options.kubeconfig !== undefined ? { kubeconfig: this.#options.kubeconfig } : {}),
    }).then((config) => new KubeApiClient(config));
    // A failed load (no kubeconfig yet) is tried again on the next attempt.
    this.#client.catch(() => {
      this.#client = undefined;
    });
    return this.#client;
  }

  /** Build the config from the cluster as it is now and serve it; `first` throws when nothing at all can be served. */
  #rebuild(first = false): void {
    const sink = this.#sink;
    if (sink === undefined) return;
    const meshNamespace = this.#options.meshNamespace ?? this.#options.namespace ?? 'default';
    const base = clusterServices({
      services: this.#watch.objects<ClusterService>('Service').values(),
      slices: this.#watch.objects<ClusterSlice>('EndpointSlice').values(),
      podLabels: this.#watch.objects<Readonly<Record<string, string>>>('Pod'),
      meshNamespace,
    });
    this.#reportSkipped(base.skipped);
    this.#reportIgnored(base.ignored);
    const current: [string, Raw][] = ISTIO_KINDS.flatMap((kind) => [...this.#watch.objects<Raw>(kind)].map(([key, doc]): [string, Raw] => [`${kind} ${key}`, manifest(doc)]));
    // A rejection holds while the object and what it refers to stay as they were; any other Istio object or a
    // Service coming or going retries them all (re-creating a deleted DestinationRule brings its VirtualService back).
    const context = JSON.stringify([Object.keys(base.services), current]);
    if (context !== this.#context) this.#rejected.clear();
    this.#context = context;
    const docs = new Map<string, Raw>();
    for (const [id, doc] of current) {
      // Still the version that was rejected: use the last good one without reporting it again.
      if (this.#rejected.get(id)?.json === JSON.stringify(doc)) this.#substitute(docs, id);
      else docs.set(id, doc);
    }
    // Each failed attempt takes at least one object out, so this ends.
    const tried = new Set<string>();
    const attempts = docs.size + 2;
    for (let attempt = 0; attempt < attempts; attempt++) {
      const ids = [...docs.keys()];
      let raw: Raw;
      const policies = policyLists(ids, docs);
      try {
        raw = applyIstioResources(
          { mesh: { namespace: meshNamespace }, services: base.services, ...policies.lists },
          ids.map((id, index) => ({ index, doc: docs.get(id) as IstioDocument['doc'] })),
          this.description,
        );
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        const bad = this.#blame(err.issues, ids);
        if (bad.size === 0) {
          this.#give(sink, err, first);
          return;
        }
        for (const [id, issues] of bad) this.#reject(docs, id, issues, sink, tried);
        continue;
      }
      const text = JSON.stringify(raw);
      if (text === this.#lastOffered) {
        // The same config: these objects are what serves now (a new generation may translate as the last did).
        this.#accepted = new Map(docs);
        this.#acceptedGenerations = this.#servedGenerations(docs);
        this.#reportRoutes();
        return;
      }
      try {
        sink.offer(raw);
      } catch (err) {
        // Not traceable to one object (a route to a subset no rule defines...): blame what changed since the last good
        // config among the objects for the Services named; when none did (a DestinationRule was deleted, or an object
        // substituted by its last good version no longer fits), those objects.
        if (!(err instanceof ConfigError)) throw err;
        const badPolicies = blamePolicies(err.issues, policies.owners);
        if (badPolicies.size > 0) {
          for (const [id, issues] of badPolicies) this.#reject(docs, id, issues, sink, tried);
          continue;
        }
        const changed = ids.filter((id) => JSON.stringify(docs.get(id)) !== JSON.stringify(this.#accepted.get(id)));
        const concerned = concernedObjects(err.issues, ids, docs, base.services, meshNamespace);
        const both = changed.filter((id) => concerned.includes(id));
        const blamed = both.length > 0 ? both : concerned.length > 0 ? concerned : changed;
        if (blamed.length === 0) {
          this.#give(sink, err, first);
          return;
        }
        const issues = err.issues;
        for (const id of blamed) this.#reject(docs, id, issues, sink, tried);
        continue;
      }
      this.#lastOffered = text;
      this.#accepted = new Map(docs);
      this.#acceptedGenerations = this.#servedGenerations(docs);
      this.#reportRoutes();
      return;
    }
    this.#give(sink, new ConfigError(this.description, [{ path: '', message: 'no consistent set of Istio resources was found' }]), first);
  }

  /** Which objects the translator's issues name (`document N (VirtualService ns/name)...`), with their issues renamed. */
  #blame(issues: readonly ConfigIssue[], ids: readonly string[]): Map<string, ConfigIssue[]> {
    const out = new Map<string, ConfigIssue[]>();
    for (const issue of issues) {
      const m = /^document (\d+) \([^)]*\)/.exec(issue.path);
      const id = m === null ? undefined : ids[Number(m[1]) - 1];
      if (id === undefined) continue;
      const list = out.get(id) ?? [];
      list.push({ path: `${id}${issue.path.slice(m![0].length)}`, message: issue.message });
      out.set(id, list);
    }
    return out;
  }

  #reject(docs: Map<string, Raw>, id: string, issues: readonly ConfigIssue[], sink: ConfigInputSink, tried: Set<string>): void {
    const current = this.#kept(id);
    if (current !== undefined) this.#rejected.set(id, { json: JSON.stringify(manifest(current)), issues });
    // Rejected twice in one rebuild: its last good version no longer fits the cluster either (its host went away).
    const again = tried.has(id);
    tried.add(id);
    const had = this.#accepted.has(id) && !again;
    const err = new ConfigError(`${this.description}, ${id}`, issues);
    this.#options.logger.error(`${id} rejected; ${had ? 'its last good version keeps serving' : 'it is left out until fixed'}`, {
      object: id,
      error: err.message,
    });
    sink.rejected(err);
    if (again) docs.delete(id);
    else this.#substitute(docs, id);
  }

  /** The object `Kind namespace/name` as the watch keeps it. */
  #kept(id: string): Raw | undefined {
    const space = id.indexOf(' ');
    return this.#watch.objects<Raw>(id.slice(0, space)).get(id.slice(space + 1));
  }

  /** Each served route's generation: the watched one if served as it is now, else the one it had when accepted. */
  #servedGenerations(docs: ReadonlyMap<string, Raw>): Map<string, number> {
    const out = new Map<string, number>();
    for (const kind of STATUS_KINDS) {
      for (const [key, route] of this.#watch.objects<KeptRoute>(kind.name)) {
        const id = `${kind.name} ${key}`;
        const served = docs.get(id);
        if (served === undefined) continue;
        const generation = JSON.stringify(served) === JSON.stringify(manifest(route as unknown as Raw)) ? route.metadata.generation : this.#acceptedGenerations.get(id);
        if (generation !== undefined) out.set(id, generation);
      }
    }
    return out;
  }

  /** Writes each route's status for what this rebuild made of it (the writer skips those whose status is unchanged). */
  #reportRoutes(): void {
    for (const kind of STATUS_KINDS) {
      for (const [key, route] of this.#watch.objects<KeptRoute>(kind.name)) {
        const id = `${kind.name} ${key}`;
        const rejected = this.#rejected.get(id);
        const verdict: RouteVerdict =
          rejected !== undefined && rejected.json === JSON.stringify(manifest(route as unknown as Raw))
            ? { accepted: false, issues: rejected.issues, servingGeneration: this.#acceptedGenerations.get(id) }
            : { accepted: true };
        void this.#status.update(kind, route, verdict);
      }
    }
  }

  #substitute(docs: Map<string, Raw>, id: string): void {
    const good = this.#accepted.get(id);
    if (good !== undefined) docs.set(id, good);
    else docs.delete(id);
  }

  #give(sink: ConfigInputSink, err: unknown, first: boolean): void {
    if (first) throw err;
    sink.rejected(err);
  }

  #reportIgnored(ignored: readonly string[]): void {
    const text = ignored.join('\n');
    if (text === this.#ignoredReported) return;
    this.#ignoredReported = text;
    if (ignored.length > 0) this.#options.logger.warn('some Service annotations are not honoured; the Services are served without them', { annotations: ignored });
  }

  #reportSkipped(skipped: readonly string[]): void {
    const text = skipped.join(', ');
    if (text === this.#skippedReported) return;
    this.#skippedReported = text;
    if (skipped.length > 0) this.#options.logger.warn('some Services are not served', { services: skipped });
  }
}

/** An object as its manifest holds it: what the translator reads, without the status and versions a route is kept with. */
function manifest(doc: Raw): Raw {
  const meta = doc.metadata as Raw | undefined;
  if (!('status' in doc) && (meta === undefined || (!('generation' in meta) && !('resourceVersion' in meta)))) return doc;
  const { generation: _g, resourceVersion: _v, ...metadata } = meta ?? {};
  const { status: _s, ...rest } = doc;
  return { ...rest, metadata };
}
