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
 */
import { MeshError } from '../../errors.js';
import type { BackoffConfig } from '../../resilience/backoff.js';
import { rejectedWatch } from '../rejected-watch.js';
import type { DiscoveryProvider, DiscoveryTarget, EndpointListener, EndpointWatch } from '../source.js';
import { KubeApiClient } from './api-client.js';
import { type ClusterConfigOptions, loadClusterConfig } from './cluster-config.js';
import { SliceWatch } from './slice-watch.js';
import { parseKubeTarget } from './target.js';

export interface KubernetesProviderOptions extends ClusterConfigOptions {
  /** Environment for KUBECONFIG, KUBERNETES_SERVICE_HOST/PORT, HOME and MESH_ZONE; default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** This workload's zone, to honour topology hints; default MESH_ZONE, else hints are ignored. */
  zone?: string;
  /** Reconnect backoff (client-go's reflector: 800 ms growing to 30 s), full jitter. */
  backoff?: BackoffConfig;
  /** Server-side watch timeout in seconds (each watch picks between this and twice this); default 300. */
  watchTimeoutSeconds?: number;
  /** Source of jitter in [0, 1); for tests. */
  random?: () => number;
}

export const DEFAULT_KUBE_BACKOFF: BackoffConfig = { baseMs: 800, maxMs: 30_000 };

export function kubernetesProvider(options: KubernetesProviderOptions = {}): DiscoveryProvider {
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

  return {
    scheme: 'k8s',
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
          localZone: options.zone ?? env.MESH_ZONE?.trim() ?? '',
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
      for (const w of [...watches]) w.close();
      // Watches were aborted above; nothing in flight is worth waiting for.
      await made?.destroy();
    },
  };
}

