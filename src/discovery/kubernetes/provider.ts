/**
 * The `k8s:` discovery provider: endpoints from the Kubernetes API's
 * EndpointSlices, no control plane needed. Target syntax in target.ts,
 * cluster access in cluster-config.ts, the list/watch loop in slice-watch.ts.
 *
 * One API client per provider, made when the first watch starts (never at
 * construction: a process that configures no `k8s:` service reads no
 * kubeconfig and opens no connection). If the cluster config cannot be
 * loaded, every watch reports why and tries again with backoff, so a token
 * mounted late still gets picked up.
 *
 * This workload's zone (for topology hints) is the `zone` option, else
 * MESH_ZONE, else its Node's zone label, read once with the same client
 * (local-zone.ts). `localZone()` hands it to whoever else wants it.
 */
import { MeshError } from '../../errors.js';
import type { BackoffConfig } from '../../resilience/backoff.js';
import { type MeshLogger, stderrLogger } from '../../telemetry/logger.js';
import { rejectedWatch } from '../rejected-watch.js';
import type { DiscoveryProvider, DiscoveryTarget, EndpointListener, EndpointWatch } from '../source.js';
import { KubeApiClient } from './api-client.js';
import { type ClusterConfigOptions, loadClusterConfig } from './cluster-config.js';
import { LocalZone, type ZoneInfo } from './local-zone.js';
import { SliceWatch } from './slice-watch.js';
import { parseKubeTarget } from './target.js';

export interface KubernetesProviderOptions extends ClusterConfigOptions {
  /** Environment for KUBECONFIG, KUBERNETES_SERVICE_HOST/PORT, HOME, MESH_ZONE and MESH_NODE_NAME / NODE_NAME; default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** This workload's zone, to honour topology hints; default MESH_ZONE, else the zone label of the Node named by MESH_NODE_NAME (or NODE_NAME), else hints are ignored. */
  zone?: string;
  /** Where the one warning about an unreadable Node goes; default the built-in stderr logger. */
  logger?: MeshLogger;
  /** Reconnect backoff (client-go's reflector: 800 ms growing to 30 s), full jitter. */
  backoff?: BackoffConfig;
  /** Server-side watch timeout in seconds (each watch picks between this and twice this); default 300. */
  watchTimeoutSeconds?: number;
  /** Source of jitter in [0, 1); for tests. */
  random?: () => number;
}

export const DEFAULT_KUBE_BACKOFF: BackoffConfig = { baseMs: 800, maxMs: 30_000 };

export interface KubernetesProvider extends DiscoveryProvider {
  /** This workload's zone as known now: '' until a Node read lands, or when there is none. */
  readonly zone: string;
  /**
   * This workload's zone and where it came from, once settled; reads the
   * Node the first time when the zone comes from it (and only then touches
   * the cluster). Never rejects: a failed read is a warning and no zone.
   */
  localZone(): Promise<ZoneInfo>;
  /** Aborts every list, watch and the Node read, and closes the connection pool. */
  close(): Promise<void>;
}

export function kubernetesProvider(options: KubernetesProviderOptions = {}): KubernetesProvider {
  const env = options.env ?? process.env;
  const watches = new Set<EndpointWatch>();
  let client: Promise<KubeApiClient> | undefined;
  let made: KubeApiClient | undefined;
  let closed = false;

  const getClient = (): Promise<KubeApiClient> => {
    if (client !== undefined) return client;
    const loading = loadClusterConfig(env, options).then((config) => {
      const c = new KubeApiClient(config);
      if (closed) {
        void c.destroy();
        throw new MeshError('MESH_CLOSED', 'k8s discovery provider is closed');
      }
      made = c;
      return c;
    });
    client = loading;
    // A failed load is not cached: the next attempt reads the files again.
    loading.catch(() => {
      if (client === loading) client = undefined;
    });
    return loading;
  };
  const zone = new LocalZone({ zone: options.zone, env, client: getClient, logger: options.logger ?? stderrLogger() });

  return {
    scheme: 'k8s',
    get zone() {
      return zone.current;
    },
    localZone: () => zone.resolve(),
    validate(target) {
      const parsed = parseKubeTarget(target);
      return typeof parsed === 'string' ? parsed : undefined;
    },
    watch(target: DiscoveryTarget, listener: EndpointListener): EndpointWatch {
      if (closed) throw new MeshError('MESH_CLOSED', `k8s discovery provider is closed; cannot watch ${target.uri}`);
      const parsed = parseKubeTarget(target);
      if (typeof parsed === 'string') return rejectedWatch(target, parsed, listener);
      const watch: EndpointWatch = new SliceWatch(
        parsed,
        target,
        listener,
        {
          client: getClient,
          localZone: zone,
          backoff: options.backoff ?? DEFAULT_KUBE_BACKOFF,
          random: options.random ?? Math.random,
          watchTimeoutSeconds: options.watchTimeoutSeconds ?? 300,
        },
        () => watches.delete(watch),
      );
      watches.add(watch);
      return watch;
    },
    async close() {
      closed = true;
      zone.close();
      for (const w of [...watches]) w.close();
      // Watches were aborted above; nothing in flight is worth waiting for.
      await made?.destroy();
    },
  };
}

