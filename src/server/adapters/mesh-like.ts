/**
 * What an adapter needs from a mesh: its inbound side. Structural, so the
 * adapters import neither the mesh nor any framework at run time.
 */
import type { MeshInbound } from '../mesh-inbound.js';

export interface InboundOwner {
  readonly inbound: MeshInbound;
}
