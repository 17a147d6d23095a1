/**
 * The inbound side's building blocks, for the mesh (mesh.createServer) and
 * the framework adapters. Re-exports only.
 */
import { type InboundHandler, MeshServer, type MeshServerOptions } from './mesh-server.js';

export { type ConnectionKind, classifyFirstBytes } from './first-bytes.js';
export type { RequestAuth } from './inbound-guard.js';
export { type InboundHandler, type InboundRequest, type InboundResponse, MeshServer, type MeshServerOptions, type MtlsMode, requestAuthOf, type ServerTlsSource } from './mesh-server.js';
export { type Peer, peerOf, peerOfSocket } from './peer.js';

export function createMeshServer(handler: InboundHandler, options: MeshServerOptions): MeshServer {
  return new MeshServer(handler, options);
}
