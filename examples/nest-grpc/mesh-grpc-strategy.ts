/**
 * Nest's own gRPC transport (ServerGrpc), serving on a mesh gRPC server
 * instead of a grpc-js server it binds itself: Nest registers its
 * controllers' handlers on `meshServer.server` as usual, and every call
 * goes through the mesh (mTLS modes, identity, JWT, authorization, rate
 * limits, deadline, spans, metrics, drain).
 *
 * Nest builds the handlers itself, so the mesh reads the controllers'
 * decorators with `meshServer.usePolicies(definition, Controller)`.
 */
import { type GrpcOptions, ServerGrpc } from '@nestjs/microservices';
import type { MeshGrpcServer } from 'proxyless';

export class MeshGrpcStrategy extends ServerGrpc {
  readonly #mesh: MeshGrpcServer;
  readonly #port: number;
  readonly #host: string | undefined;

  constructor(meshServer: MeshGrpcServer, listen: { port: number; host?: string }, options: GrpcOptions['options']) {
    super(options);
    this.#mesh = meshServer;
    this.#port = listen.port;
    this.#host = listen.host;
  }

  /** Nest's hook for the grpc-js server it registers services on: the mesh's, listening. */
  override async createClient(): Promise<unknown> {
    await this.#mesh.listen(this.#port, this.#host);
    return this.#mesh.server;
  }

  /** `app.close()`: the mesh server drains (calls in flight finish). */
  override async close(): Promise<void> {
    await this.#mesh.close();
  }
}
