/**
 * The inbound side's building blocks, for the mesh (mesh.createServer,
 * mesh.inbound) and the framework adapters. Re-exports only.
 */
import { type Http1Handler, type InboundHandler, MeshServer, type MeshServerOptions } from './mesh-server.js';

export {
  type ExpressMiddleware,
  type ExpressRequestLike,
  expressRoute,
  type MeshExpressOptions,
  meshExpress,
  meshExpressErrors,
} from './adapters/express.js';
export { type FastifyPluginLike, type FastifyRequestLike, fastifyRoute, meshFastify } from './adapters/fastify.js';
export type { InboundOwner } from './adapters/mesh-like.js';
export type { Drainable, NodeServerLike } from './drain.js';
export { type ConnectionKind, classifyFirstBytes } from './first-bytes.js';
export { meshContextOf } from './http-inbound.js';
export type { InboundCall, InboundExchange, InboundOutcome, MeshRequestContext } from './inbound-exchange.js';
export type { RequestAuth } from './inbound-guard.js';
export { InboundPipeline } from './inbound-pipeline.js';
export { MeshInbound } from './mesh-inbound.js';
export { type CreateServerOptions, type Http1Handler, type InboundHandler, type InboundRequest, type InboundResponse, MeshServer, type MeshServerOptions, type MtlsMode, requestAuthOf, type ServerTlsSource } from './mesh-server.js';
export { type Peer, peerOf, peerOfSocket } from './peer.js';
export { meshHttpOptions } from './request-slots.js';
export { ROUTE_METRIC_NAMES, UNMATCHED_ROUTE } from './route-metrics.js';

export function createMeshServer(handler: InboundHandler, options: MeshServerOptions): MeshServer;
export function createMeshServer(handler: Http1Handler, options: MeshServerOptions): MeshServer;
export function createMeshServer(handler: InboundHandler | Http1Handler, options: MeshServerOptions): MeshServer {
  return new MeshServer(handler, options);
}
