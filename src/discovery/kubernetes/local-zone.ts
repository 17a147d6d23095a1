/**
 * This workload's own zone, for topology hints (and for whoever asks the
 * provider for it). The first of these that is set wins:
 * 1. the provider's `zone` option;
 * 2. MESH_ZONE;
 * 3. the `topology.kubernetes.io/zone` label (else the deprecated
 *    `failure-domain.beta.kubernetes.io/zone`) of the Node named by
 *    MESH_NODE_NAME, else NODE_NAME (the Downward API's `spec.nodeName`;
 *    NODE_NAME only inside a cluster, where KUBERNETES_SERVICE_HOST is set,
 *    since CI systems such as Jenkins set it to other things);
 * 4. none.
 * The region is the Node's `topology.kubernetes.io/region` label when the
 * Node was read, else MESH_REGION: a cluster's zones lie in one region, so
 * it is also the region of every endpoint the provider lists.
 *
 * The Node is read once, when first asked for (the first `k8s:` list, or
 * `localZone()`), never at construction and never watched: a pod does not
 * move between nodes, and a Node label change is not worth a cluster-wide
 * permission to watch. A failed read is one warning and no zone, never an
 * error: hints are an optimisation, discovery works without them.
 */
import { envVar } from '../../config/env.js';
import type { MeshLogger } from '../../telemetry/logger.js';
import type { KubeApiClient } from './api-client.js';
import { nodeNameProblem, nodeReadWarning, readNodeLocality, ZONE_LABEL } from './node-zone.js';

type Env = Readonly<Record<string, string | undefined>>;

export type ZoneSource = 'option' | 'MESH_ZONE' | 'node' | 'none';

export interface ZoneInfo {
  /** '' when unknown. */
  readonly zone: string;
  /** '' when unknown: the Node's region label, else MESH_REGION. */
  readonly region: string;
  readonly source: ZoneSource;
  /** The Node it was read from (source `node`), or that was to be read. */
  readonly node?: string;
}

export interface LocalZoneOptions {
  /** The provider's `zone` option; blank counts as unset. */
  readonly zone: string | undefined;
  readonly env: Env;
  readonly client: () => Promise<KubeApiClient>;
  readonly logger: MeshLogger;
}

export class LocalZone {
  #info: ZoneInfo;
  /** The Node to read and the variable that named it; undefined when there is nothing to read. */
  readonly #node: { readonly name: string; readonly variable: string } | undefined;
  readonly #options: LocalZoneOptions;
  readonly #abort = new AbortController();
  readonly #listeners = new Set<() => void>();
  #read: Promise<ZoneInfo> | undefined;
  #settled: boolean;

  constructor(options: LocalZoneOptions) {
    this.#options = options;
    const given = options.zone?.trim() || undefined;
    const fromEnv = envVar(options.env, 'MESH_ZONE');
    const region = envVar(options.env, 'MESH_REGION') ?? '';
    const inCluster = envVar(options.env, 'KUBERNETES_SERVICE_HOST') !== undefined;
    const variable = envVar(options.env, 'MESH_NODE_NAME') !== undefined || !inCluster ? 'MESH_NODE_NAME' : 'NODE_NAME';
    const node = envVar(options.env, variable);
    if (given !== undefined) this.#info = { zone: given, region, source: 'option' };
    else if (fromEnv !== undefined) this.#info = { zone: fromEnv, region, source: 'MESH_ZONE' };
    else this.#info = { zone: '', region, source: 'none', ...(node !== undefined ? { node } : {}) };
    this.#node = this.#info.source === 'none' && node !== undefined ? { name: node, variable } : undefined;
    this.#settled = this.#node === undefined;
  }

  /** The zone as known now; '' while the Node is being read, or when there is none. */
  get current(): string {
    return this.#info.zone;
  }

  /** The region as known now; '' when unknown. */
  get region(): string {
    return this.#info.region;
  }

  /** Settles once the zone is known or known to be unknown, reading the Node the first time. Never rejects. */
  resolve(): Promise<ZoneInfo> {
    if (this.#node === undefined) return Promise.resolve(this.#info);
    this.#read ??= this.#readNode(this.#node.name, this.#node.variable);
    return this.#read;
  }

  /**
   * Wait for resolve(), but at most `ms` (or until `signal` aborts): the
   * first endpoint set waits this long for the zone so its hints apply
   * from the start, and a slow Node read cannot hold readiness back longer.
   */
  async within(ms: number, signal: AbortSignal): Promise<void> {
    if (this.#settled || signal.aborted) return;
    const read = this.resolve();
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    try {
      await Promise.race([
        read,
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, ms);
          timer.unref();
          onAbort = resolve;
          signal.addEventListener('abort', onAbort, { once: true });
        }),
      ]);
    } finally {
      if (timer !== undefined) clearTimeout(timer);
      if (onAbort !== undefined) signal.removeEventListener('abort', onAbort);
    }
  }

  /** Called (never synchronously, never after close) when the zone is learned from the Node. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  close(): void {
    this.#listeners.clear();
    this.#abort.abort();
  }

  async #readNode(name: string, variable: string): Promise<ZoneInfo> {
    const { logger } = this.#options;
    try {
      const problem = nodeNameProblem(name);
      if (problem !== undefined) {
        logger.warn(`k8s discovery: ${variable} "${name}" ${problem}; carrying on with no zone (topology hints ignored)`, {
          node: name,
          variable,
        });
        return this.#info;
      }
      let zone: string;
      let region: string;
      try {
        ({ zone, region } = await readNodeLocality(await this.#options.client(), name, this.#abort.signal));
      } catch (err) {
        if (!this.#abort.signal.aborted) {
          const { message, fields } = nodeReadWarning(name, variable, err);
          logger.warn(message, fields);
        }
        return this.#info;
      }
      if (this.#abort.signal.aborted) return this.#info;
      if (zone === '') {
        logger.info(`k8s discovery: Node "${name}" has no ${ZONE_LABEL} label; no zone (topology hints ignored)`, { node: name });
        return this.#info;
      }
      this.#info = { zone, region: region || this.#info.region, source: 'node', node: name };
      logger.info(`k8s discovery: this workload's zone is "${zone}", from Node "${name}"`, { node: name, zone });
      for (const listener of [...this.#listeners]) {
        // A consumer's failure is its own; it must not make resolve() reject or starve the other watches.
        try {
          listener();
        } catch (err) {
          logger.error('k8s discovery: re-filtering endpoints for the new zone failed', { zone, error: String(err) });
        }
      }
      return this.#info;
    } finally {
      this.#settled = true;
    }
  }
}
