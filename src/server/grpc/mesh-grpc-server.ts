/**
 * `mesh.grpc.server()`: a real grpc-js Server behind the mesh. Its
 * connections come through the mesh's transport (mTLS modes, rotating
 * certificate; grpc-transport.ts), its calls through the mesh's inbound
 * pipeline (grpc-inbound.ts), and its handlers' decorators become per-method
 * rules when they are registered. It drains with the mesh (SIGTERM,
 * `mesh.close()`): GOAWAY to every connection, calls in flight finish
 * within the drain timeout, new ones are refused.
 */
import type { AddressInfo } from 'node:net';
import { type Server, ServerCredentials, type ServerOptions, type ServiceDefinition, type UntypedHandleCall } from '@grpc/grpc-js';
import type { GrpcMethodTable } from '../../client/grpc-methods.js';
import type { DeadlineWheel } from '../../resilience/deadline-wheel.js';
import { GrpcWireBytes } from '../../telemetry/grpc-wire-bytes.js';
import type { Drainable } from '../drain.js';
import type { InboundPipeline } from '../inbound-pipeline.js';
import type { ServerTlsSource } from '../mesh-server.js';
import { meshServerInterceptor } from './grpc-inbound.js';
import { GrpcTransport, type ModesSource } from './grpc-transport.js';
import { type MethodType, mapMeshErrors } from './handler-errors.js';
import { MeteredServer } from './metered-server.js';
import { decoratedPolicy } from './method-decorators.js';
import { compileMethodRules, type MethodRules, mergePolicies } from './method-rules.js';

export interface MeshGrpcServerOptions {
  /** grpc-js server options (channel args); `interceptors` given here run after the mesh's. */
  readonly grpc?: ServerOptions;
  /** How long a new connection may stay silent before it is closed (default 10 s; PERMISSIVE only). */
  readonly firstByteTimeoutMs?: number;
}

/** What the mesh lends its gRPC server. */
export interface MeshGrpcServerParts {
  readonly pipeline: InboundPipeline;
  readonly modes: ModesSource;
  readonly tls: ServerTlsSource | undefined;
  readonly methods: GrpcMethodTable;
  readonly wheel: DeadlineWheel;
  readonly onTlsError?: ((err: Error) => void) | undefined;
}

/** A handler class (its prototype's methods) or an instance, as frameworks hold them. */
type HandlerSource = object | (abstract new (...args: never[]) => unknown);

export class MeshGrpcServer implements Drainable {
  /** The grpc-js Server underneath, for code that registers services itself (Nest's gRPC transport). */
  readonly server: Server;
  readonly #transport: GrpcTransport;
  readonly #parts: MeshGrpcServerParts;
  readonly #rules = new Map<string, MethodRules>();

  constructor(parts: MeshGrpcServerParts, options: MeshGrpcServerOptions = {}) {
    this.#parts = parts;
    let transport: GrpcTransport | undefined;
    // Message sizes, from the server's (de)serializers to the calls that read and sent them.
    const wire = new GrpcWireBytes();
    const interceptor = meshServerInterceptor({
      pipeline: parts.pipeline,
      sides: (address, port) => transport?.sidesOf(address, port),
      rules: (path) => this.#rules.get(path),
      wheel: parts.wheel,
      wire,
    });
    const grpcOptions = options.grpc ?? {};
    this.server = new MeteredServer(wire, { ...grpcOptions, interceptors: [interceptor, ...(grpcOptions.interceptors ?? [])] });
    transport = new GrpcTransport({
      injector: this.server.createConnectionInjector(ServerCredentials.createInsecure()),
      modes: parts.modes,
      tls: parts.tls,
      firstByteTimeoutMs: options.firstByteTimeoutMs,
      onTlsError: parts.onTlsError,
    });
    this.#transport = transport;
  }

  /**
   * Register a service's handlers: grpc-js's `addService`, plus the
   * decorators on the handler's class (`@Authorize`, `@RateLimit`,
   * `@Timeout`, `@Idempotent`), and mesh errors from handlers answered
   * with their mapped status.
   */
  addService(definition: ServiceDefinition, implementation: object): void {
    this.usePolicies(definition, implementation);
    const wrapped: Record<string, UntypedHandleCall> = {};
    for (const [name, m] of Object.entries(definition)) {
      const impl = implementation as Record<string, unknown>;
      const fn = impl[name] ?? (typeof m.originalName === 'string' ? impl[m.originalName] : undefined);
      if (typeof fn !== 'function') continue;
      wrapped[name] = mapMeshErrors(fn.bind(implementation) as UntypedHandleCall, methodType(m.requestStream, m.responseStream));
    }
    this.server.addService(definition, wrapped);
  }

  /**
   * Read the decorators of `handler` (a class or an instance) for the
   * methods of `definition`, without registering handlers: for frameworks
   * that call `server.addService` themselves, such as Nest's gRPC
   * transport. A method is matched by the rpc name or the proto-loader's
   * `originalName` (`findOne` for `FindOne`).
   */
  usePolicies(definition: ServiceDefinition, handler: HandlerSource): void {
    const cls = typeof handler === 'function' ? handler : (handler.constructor as object | undefined);
    const proto = (typeof handler === 'function' ? handler.prototype : handler) as Record<string, unknown>;
    const classPolicy = cls === undefined ? undefined : decoratedPolicy(cls);
    for (const [name, m] of Object.entries(definition)) {
      const fn = proto[name] ?? (typeof m.originalName === 'string' ? proto[m.originalName] : undefined);
      const policy = mergePolicies(classPolicy, typeof fn === 'function' ? decoratedPolicy(fn) : undefined);
      if (policy === undefined) continue;
      // The workload namespace only resolves bare service-account names, which @Authorize does not take.
      const rules = compileMethodRules(m.path, policy, 'default');
      this.#rules.set(m.path, rules);
      if (rules.idempotent) this.#parts.methods.declare(m.path, true);
    }
  }

  /** Start accepting on `port` (0: any free port) once the workload certificate is loaded. */
  listen(port = 0, host?: string): Promise<AddressInfo> {
    return this.#transport.listen(port, host);
  }

  address(): AddressInfo | undefined {
    return this.#transport.address();
  }

  /**
   * Stop accepting, let calls in flight finish, then close; after
   * `drainMs` (default 10 s) the calls still running are cancelled.
   */
  async close(drainMs = 10_000): Promise<void> {
    const timer = setTimeout(() => this.#transport.closeAll(), drainMs);
    timer.unref();
    await this.#transport.close(drainMs);
    clearTimeout(timer);
    this.server.forceShutdown();
  }

  closeIdle(): void {
    this.#transport.closeIdle();
  }

  closeAll(): void {
    this.#transport.closeAll();
  }

  /** Stop at once: calls in flight are cancelled. */
  destroy(): void {
    this.#transport.destroy();
    this.server.forceShutdown();
  }
}

function methodType(requestStream: boolean, responseStream: boolean): MethodType {
  if (requestStream) return responseStream ? 'bidi' : 'clientStream';
  return responseStream ? 'serverStream' : 'unary';
}
