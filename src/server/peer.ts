/**
 * Who is on the other end of an inbound connection: the verified SPIFFE ID
 * of an mTLS peer, or nobody (plaintext). Read once per connection, since
 * every request on a keep-alive connection has the same peer.
 */
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { spiffeIdOf } from '../security/tls/peer-certificate.js';

export interface Peer {
  /** The peer's SPIFFE ID (`spiffe://td/ns/x/sa/y`) when it presented a verified certificate. */
  readonly spiffeId: string | undefined;
  /** Istio's principal form: the SPIFFE ID without `spiffe://`, as AuthorizationPolicy writes it. */
  readonly principal: string | undefined;
  /** The namespace from the SPIFFE ID, when it has Istio's `/ns/<ns>/sa/<sa>` form. */
  readonly namespace: string | undefined;
  /** True when the connection is mTLS with a verified client certificate. */
  readonly authenticated: boolean;
  readonly address: string;
}

/**
 * A connection's peer rides on its socket, read on its first request. A
 * WeakMap cost a hash lookup per request (about 250 instructions); the
 * symbol changes a socket's shape once per connection, not per request.
 */
const PEER = Symbol('proxyless.peer');
type PeerCarrier = Socket & { [PEER]?: Peer };

export function peerOfSocket(socket: Socket): Peer {
  const carrier = socket as PeerCarrier;
  let peer = carrier[PEER];
  if (peer === undefined) {
    peer = readPeer(socket);
    carrier[PEER] = peer;
  }
  return peer;
}

function readPeer(socket: Socket): Peer {
  const address = stripMappedPrefix(socket.remoteAddress ?? '');
  if (!(socket instanceof TLSSocket) || !socket.authorized) {
    return { spiffeId: undefined, principal: undefined, namespace: undefined, authenticated: false, address };
  }
  const spiffeId = spiffeIdOf(socket.getPeerX509Certificate()?.subjectAltName);
  const principal = spiffeId?.slice('spiffe://'.length);
  const ns = principal === undefined ? undefined : /^[^/]+\/ns\/([^/]+)\/sa\/[^/]+$/.exec(principal)?.[1];
  return { spiffeId, principal, namespace: ns, authenticated: true, address };
}

/** `::ffff:10.0.0.1` is how a dual-stack socket shows an IPv4 peer; policies write `10.0.0.1`. */
function stripMappedPrefix(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/** The verified caller of an inbound request (HTTP/1.1 or HTTP/2). */
export function peerOf(req: { readonly socket: unknown }): Peer {
  return peerOfSocket(req.socket as Socket);
}
