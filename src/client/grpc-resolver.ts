/**
 * The `mesh:` scheme for grpc-js: `mesh:///reviews` resolves through the
 * mesh's discovery (static, DNS, Kubernetes or xDS, whatever the service's
 * config names), and its service config selects the mesh's balancer. The
 * endpoints it reports are only for connecting ahead of time; which
 * endpoint each attempt uses is the mesh's pick (grpc-balancer.ts).
 */
import { type ChannelOptions, experimental, status as grpcStatus, Metadata } from '@grpc/grpc-js';
import { BALANCER_NAME } from './grpc-balancer.js';
import { channelOf, type GrpcChannelContext } from './grpc-channel-context.js';

export const MESH_SCHEME = 'mesh';

type Uri = experimental.GrpcUri;

const SERVICE_CONFIG = {
  loadBalancingConfig: [{ [BALANCER_NAME]: {} }],
  methodConfig: [],
};

class MeshResolver implements experimental.Resolver {
  readonly #listener: experimental.ResolverListener;
  readonly #context: GrpcChannelContext | undefined;
  readonly #target: string;
  readonly #unwatch: (() => void) | undefined;
  #queued = false;
  #destroyed = false;

  constructor(target: Uri, listener: experimental.ResolverListener, options: ChannelOptions) {
    this.#listener = listener;
    this.#target = target.path;
    this.#context = channelOf(options);
    this.#unwatch = this.#context?.watch(() => this.updateResolution());
  }

  updateResolution(): void {
    // grpc-js expects results after the call that asked for them has returned.
    if (this.#queued || this.#destroyed) return;
    this.#queued = true;
    setImmediate(() => {
      this.#queued = false;
      if (!this.#destroyed) this.#report();
    });
  }

  #report(): void {
    const context = this.#context;
    if (context === undefined) {
      const error = {
        code: grpcStatus.UNAVAILABLE,
        details: `mesh:///${this.#target}: this channel was not made by mesh.grpc.client(), so it has no mesh to resolve through`,
        metadata: new Metadata(),
      };
      this.#listener({ ok: false, error }, {}, null, '');
      return;
    }
    const endpoints = context.endpoints().map((u) => ({ addresses: [{ host: u.endpoint.address, port: u.endpoint.port }] }));
    this.#listener({ ok: true, value: endpoints }, {}, { ok: true, value: SERVICE_CONFIG }, '');
  }

  destroy(): void {
    this.#destroyed = true;
    this.#unwatch?.();
  }

  static getDefaultAuthority(target: Uri): string {
    return target.path;
  }
}

let registered = false;

/** Register the scheme with grpc-js (a process-wide registry), once, when the first mesh client is made. */
export function registerMeshResolver(): void {
  if (registered) return;
  registered = true;
  experimental.registerResolver(MESH_SCHEME, MeshResolver);
}
