/**
 * Where the control plane's config comes from when it is not a file: an
 * input that produces raw config (what validateConfig takes) whenever its
 * source changes. The control plane validates, translates and publishes
 * each one through the same path as a file edit.
 */
export interface ConfigInputSink {
  /** Validate, translate and serve `raw`; throws ConfigError (nothing served) when it is bad. */
  offer(raw: unknown): void;
  /** Record and log a change the input could not serve at all; the last good snapshot stays. */
  rejected(err: unknown): void;
}

export interface ConfigInput {
  /** For status and messages, e.g. `Kubernetes cluster (all namespaces), kubeconfig ~/.kube/config`. */
  readonly description: string;
  /**
   * Its endpoints carry a zone but no region, because they all lie in one
   * region (a Kubernetes cluster): each client ranks them as in its own region.
   */
  readonly oneRegion?: boolean;
  /** Resolves once a first config was served; rejects (typed) when the input cannot start, e.g. RBAC forbids it. */
  start(sink: ConfigInputSink): Promise<void>;
  /** Stop watching; never calls the sink after. */
  close(): void;
}
