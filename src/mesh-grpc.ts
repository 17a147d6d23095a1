/**
 * `mesh.grpc`: gRPC on @grpc/grpc-js with the mesh's own pipeline. Clients
 * get the mesh's discovery, pickers, retries, deadlines and telemetry
 * through grpc-js's resolver, load-balancer and interceptor extension
 * points; servers get the inbound pipeline (identity, authorization, rate
 * limits, deadline, spans, metrics, drain) through server interceptors.
 * Nothing here repeats a policy the HTTP side already has: both sides are
 * adapters over the same outbound call and inbound exchange.
 */

import type { Client } from '@grpc/grpc-js';
import type { Directory } from './client/directory.js';
import { type GrpcClientConstructor, type GrpcClientOptions, GrpcClients } from './client/grpc-client.js';
import { GrpcMethodTable } from './client/grpc-methods.js';
import type { CallEnv } from './client/stack.js';
import type { MeshSecurity } from './security/mesh-security.js';
import { MeshGrpcServer, type MeshGrpcServerOptions } from './server/grpc/mesh-grpc-server.js';
import type { MeshInbound } from './server/mesh-inbound.js';
import type { MeshLogger } from './telemetry/logger.js';

/** What the mesh hands its gRPC side: the same parts its HTTP side uses. */
export interface MeshGrpcParts {
  readonly directory: Directory;
  readonly env: CallEnv;
  readonly security: MeshSecurity;
  /** The mesh's inbound side (created on first use). */
  readonly inbound: () => MeshInbound;
  readonly logger: MeshLogger;
}

export class MeshGrpc {
  readonly #parts: MeshGrpcParts;
  /** Which methods may be retried and hedged: from protos, decorators and options. */
  readonly methods = new GrpcMethodTable();

  readonly #clients = new GrpcClients();

  constructor(parts: MeshGrpcParts) {
    this.#parts = parts;
  }

  /**
   * A grpc-js client for a mesh service (docs/grpc.md): `Ctor` is the
   * client class proto-loader or grpc-tools made, `service` the mesh
   * service's name. Its calls use the mesh's endpoints, pickers, retries,
   * budgets, hedging, deadlines, mTLS and telemetry.
   */
  client<T extends Client>(Ctor: GrpcClientConstructor<T>, service: string, options?: GrpcClientOptions): T {
    const { directory, env } = this.#parts;
    return this.#clients.create({ directory, env, methods: this.methods }, Ctor, service, options);
  }

  /** @internal The mesh is closing: every client it made closes its channel. */
  closeClients(): void {
    this.#clients.closeAll();
  }

  /**
   * A grpc-js server behind the mesh (docs/grpc.md): mTLS per
   * `mesh.security.mtls` (STRICT, PERMISSIVE or DISABLE, per-port
   * overrides), every call through the inbound pipeline, handler
   * decorators read on `addService`, drained with the mesh. Call
   * `listen()` on the result.
   */
  server(options?: MeshGrpcServerOptions): MeshGrpcServer {
    const { security, inbound, env, logger } = this.#parts;
    const server = new MeshGrpcServer(
      {
        pipeline: inbound().pipeline,
        modes: () => security.inbound(),
        tls: security.workload(),
        methods: this.methods,
        wheel: env.wheel,
        onTlsError: (err) => logger.info('inbound TLS handshake failed', { error: err.message }),
      },
      options,
    );
    inbound().attachDrainable(server, server);
    return server;
  }

  /** @internal */
  get parts(): MeshGrpcParts {
    return this.#parts;
  }
}
