/**
 * `mesh.grpc.client(ReviewsClient, 'reviews')`: an ordinary grpc-js client
 * (generated or from proto-loader) on a `mesh:///reviews` channel. The
 * channel resolves through the mesh, its balancer connects to the
 * endpoints the mesh picks, and the mesh's interceptor runs every call
 * through the shared outbound pipeline.
 */
import type { ChannelOptions, Client, Interceptor } from '@grpc/grpc-js';
import { GrpcWireBytes } from '../telemetry/grpc-wire-bytes.js';
import { registerMeshBalancer } from './grpc-balancer.js';
import { CHANNEL_CONTEXT_OPTION, closeChannelContext, type GrpcChannelContext, openChannelContext } from './grpc-channel-context.js';
import { channelCredentials } from './grpc-credentials.js';
import { type GrpcClientHost, meshInterceptor } from './grpc-interceptor.js';
import { meteredClientClass } from './grpc-metered-class.js';
import { MESH_SCHEME, registerMeshResolver } from './grpc-resolver.js';

/** A grpc-js client class: what `loadPackageDefinition` or grpc-tools generate. */
export interface GrpcClientConstructor<T extends Client> {
  new (address: string, credentials: ReturnType<typeof channelCredentials>, options?: ChannelOptions & { interceptors?: Interceptor[] }): T;
  readonly service: Readonly<Record<string, unknown>>;
}

export interface GrpcClientOptions {
  /** Extra grpc-js channel options (keepalive, message sizes). */
  readonly channelOptions?: ChannelOptions;
  /** The application's interceptors; they run before the mesh's and see one call however many attempts it takes. */
  readonly interceptors?: readonly Interceptor[];
  /** Methods (`/package.Service/Method`) to treat as idempotent although the proto does not say so. */
  readonly idempotentMethods?: readonly string[];
}

export type GrpcClientHostParts = Omit<GrpcClientHost, 'channel' | 'wire'>;

/** Clients a mesh has made, so closing the mesh closes their channels. */
export class GrpcClients {
  readonly #open = new Map<Client, GrpcChannelContext>();
  /** Message sizes, from the serializers of the classes below to the calls that sent or received them. */
  readonly #wire = new GrpcWireBytes();
  /** Each application class's measuring subclass, made on its first client. */
  readonly #metered = new WeakMap<object, unknown>();

  create<T extends Client>(parts: GrpcClientHostParts, Ctor: GrpcClientConstructor<T>, service: string, options: GrpcClientOptions = {}): T {
    registerMeshResolver();
    registerMeshBalancer();
    parts.methods.learn(Ctor.service);
    for (const path of options.idempotentMethods ?? []) parts.methods.declare(path, true);
    const directory = parts.directory;
    const context = openChannelContext({
      service,
      endpoints: () => directory.get(service)?.upstreams ?? [],
      watch: (onChange) => directory.get(service)?.onEndpointsChange(onChange) ?? (() => {}),
    });
    const security = directory.get(service)?.transportSecurity;
    const client = new (this.#meteredClass(Ctor))(`${MESH_SCHEME}:///${service}`, channelCredentials(security), {
      ...options.channelOptions,
      [CHANNEL_CONTEXT_OPTION]: context.id,
      // One retry loop: the mesh's. grpc-js's own would retry underneath it.
      'grpc.enable_retries': 0,
      ...(security?.sni !== undefined ? { 'grpc.ssl_target_name_override': security.sni } : {}),
      interceptors: [...(options.interceptors ?? []), meshInterceptor({ ...parts, channel: context, wire: this.#wire })],
    });
    this.#open.set(client, context);
    const close = client.close.bind(client);
    client.close = () => {
      this.#open.delete(client);
      closeChannelContext(context);
      close();
    };
    return client;
  }

  #meteredClass<T extends Client>(Ctor: GrpcClientConstructor<T>): GrpcClientConstructor<T> {
    let metered = this.#metered.get(Ctor) as GrpcClientConstructor<T> | undefined;
    if (metered === undefined) {
      metered = meteredClientClass(Ctor, this.#wire);
      this.#metered.set(Ctor, metered);
    }
    return metered;
  }

  closeAll(): void {
    for (const client of [...this.#open.keys()]) client.close();
  }
}
