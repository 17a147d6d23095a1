/**
 * The client interceptor that puts a grpc-js call through the mesh. It is
 * the innermost interceptor the mesh adds: the application's own
 * interceptors run first (they see one logical call), and each attempt the
 * pipeline starts goes on down to the channel as a call of its own.
 */
import type { InterceptingCall, InterceptingListener, Interceptor, InterceptorOptions, Metadata, NextCall } from '@grpc/grpc-js';
import { MeshError } from '../errors.js';
import type { GrpcWireBytes } from '../telemetry/grpc-wire-bytes.js';
import type { Directory } from './directory.js';
import { GrpcCall } from './grpc-call.js';
import type { GrpcChannelContext } from './grpc-channel-context.js';
import type { GrpcMethodTable } from './grpc-methods.js';
import { GrpcRequestView } from './grpc-request.js';
import { errorStatus } from './grpc-status.js';
import type { CallEnv } from './stack.js';

type CallStream = ReturnType<NextCall>;
type MessageContext = Parameters<CallStream['sendMessageWithContext']>[0];

export interface GrpcClientHost {
  readonly channel: GrpcChannelContext;
  readonly directory: Directory;
  readonly env: CallEnv;
  readonly methods: GrpcMethodTable;
  /** Where the client class's (de)serializers note message sizes (grpc-wire-bytes.ts). */
  readonly wire: GrpcWireBytes;
}

export function meshInterceptor(host: GrpcClientHost): Interceptor {
  // grpc-js only calls the InterceptingCall interface on what an
  // interceptor returns; wrapping the front in one more InterceptingCall
  // would add an object and three bound listener functions per call.
  return (options, next) => new MeshCallFront(host, options, next) as unknown as InterceptingCall;
}

/**
 * What grpc-js holds while the call runs. The route is matched on the
 * call's metadata, which arrives with start(), so the pipeline's call is
 * made there; until then this front only remembers.
 */
class MeshCallFront implements CallStream {
  readonly #host: GrpcClientHost;
  readonly #options: InterceptorOptions;
  readonly #next: NextCall;
  #call: GrpcCall | undefined;

  constructor(host: GrpcClientHost, options: InterceptorOptions, next: NextCall) {
    this.#host = host;
    this.#options = options;
    this.#next = next;
  }

  start(metadata: Metadata, listener?: Partial<InterceptingListener>): void {
    const host = this.#host;
    const full = listener as InterceptingListener;
    const def = this.#options.method_definition;
    const service = host.channel.service;
    const destination = host.directory.get(service);
    const request = new GrpcRequestView(def.path, service, metadata, host.methods.isIdempotent(def.path), def.requestStream);
    if (destination === undefined) {
      refuse(full, new MeshError('MESH_NO_ROUTE', `no service named ${service} in the mesh config`, { details: { service } }));
      return;
    }
    const policy = destination.routes?.match(request);
    if (policy === undefined) {
      const err = new MeshError('MESH_NO_ROUTE', `no route of ${service} matches ${def.path}`, { details: { service, path: def.path } });
      host.env.observer?.refused(destination, request, err);
      refuse(full, err);
      return;
    }
    const call = new GrpcCall(policy, host.env, { request, options: this.#options, next: this.#next, listener: full, channel: host.channel, wire: host.wire });
    this.#call = call;
    call.begin();
  }

  sendMessage(message: unknown): void {
    this.#call?.sendMessage(message);
  }

  sendMessageWithContext(context: MessageContext, message: unknown): void {
    if (this.#call !== undefined) this.#call.sendMessageWithContext(context, message);
    else context.callback?.();
  }

  halfClose(): void {
    this.#call?.halfClose();
  }

  startRead(): void {
    this.#call?.startRead();
  }

  cancelWithStatus(_code: number, details: string): void {
    this.#call?.cancel(new MeshError('MESH_ABORTED', `the caller cancelled the call: ${details}`));
  }

  getPeer(): string {
    return this.#call?.getPeer() ?? '';
  }

  getAuthContext(): ReturnType<CallStream['getAuthContext']> {
    return this.#call?.getAuthContext() ?? null;
  }
}

function refuse(listener: InterceptingListener, err: MeshError): void {
  queueMicrotask(() => listener.onReceiveStatus(errorStatus(err)));
}
