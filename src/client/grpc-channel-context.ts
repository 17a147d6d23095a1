/**
 * What ties one grpc-js channel to the mesh. grpc-js keeps resolvers and
 * load-balancing policies in process-wide registries and builds them from
 * channel options, so a channel carries only a number; this table maps it
 * back to the mesh destination it serves. The entry goes when the client
 * is closed, so nothing here outlives its mesh.
 */
import type { ChannelOptions } from '@grpc/grpc-js';
import type { Upstream } from './upstream.js';

/** The channel option that names a channel's context. */
export const CHANNEL_CONTEXT_OPTION = 'proxyless.channel';

export interface GrpcChannelContext {
  readonly id: number;
  /** The destination (service) the channel was made for. */
  readonly service: string;
  /** Endpoints attempts have named, by key, so the balancer can dial one it has not seen yet. */
  readonly upstreams: Map<string, Upstream>;
  /** Endpoints to connect to ahead of the first call (the resolver's answer). */
  endpoints(): readonly Upstream[];
  /** Called with a function to run whenever the destination's endpoints change; returns the unsubscribe. */
  watch(onChange: () => void): () => void;
}

const contexts = new Map<number, GrpcChannelContext>();
let nextId = 1;

export function openChannelContext(init: Omit<GrpcChannelContext, 'id' | 'upstreams'>): GrpcChannelContext {
  const context: GrpcChannelContext = { ...init, id: nextId++, upstreams: new Map() };
  contexts.set(context.id, context);
  return context;
}

export function closeChannelContext(context: GrpcChannelContext): void {
  contexts.delete(context.id);
}

export function channelOf(options: ChannelOptions): GrpcChannelContext | undefined {
  const id = options[CHANNEL_CONTEXT_OPTION];
  return typeof id === 'number' ? contexts.get(id) : undefined;
}
