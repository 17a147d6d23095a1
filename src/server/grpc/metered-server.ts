/**
 * The grpc-js Server under `mesh.grpc.server()`, with every method's
 * response serializer and request deserializer wrapped once, as it is
 * registered, so the inbound interceptor learns each message's wire size
 * (grpc-wire-bytes.ts). `register` is where grpc-js's own `addService`
 * puts each method, so services registered on `meshServer.server` directly
 * (Nest's gRPC transport) are measured too.
 */
import { type deserialize, Server, type ServerOptions, type serialize, type UntypedHandleCall } from '@grpc/grpc-js';
import type { Deserialize, GrpcWireBytes, Serialize } from '../../telemetry/grpc-wire-bytes.js';

export class MeteredServer extends Server {
  readonly #wire: GrpcWireBytes;

  constructor(wire: GrpcWireBytes, options?: ServerOptions) {
    super(options);
    this.#wire = wire;
  }

  override register<RequestType, ResponseType>(
    name: string,
    handler: UntypedHandleCall,
    serialize: serialize<ResponseType>,
    deserialize: deserialize<RequestType>,
    type: string,
  ): boolean {
    const wire = this.#wire;
    return super.register(
      name,
      handler,
      wire.serializer(serialize as Serialize) as serialize<ResponseType>,
      wire.deserializer(deserialize as Deserialize) as deserialize<RequestType>,
      type,
    );
  }
}
