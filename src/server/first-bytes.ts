/**
 * Tells connections apart by their first bytes, so one port can serve mTLS
 * and plaintext (PERMISSIVE), and HTTP/1.1 and HTTP/2 prior knowledge, as
 * Istio's PERMISSIVE listener does with its TLS inspector.
 *
 * A TLS connection always opens with a handshake record (content type 22);
 * an HTTP/2 client with prior knowledge opens with the fixed preface "PRI *".
 * Nothing else a client may send starts with either.
 */
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';

export type ConnectionKind = 'tls' | 'h2c' | 'http1';

const TLS_HANDSHAKE = 0x16;
const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

/** What the first bytes say, or undefined when more bytes are needed to tell. */
export function classifyFirstBytes(bytes: Buffer): ConnectionKind | undefined {
  if (bytes.length === 0) return undefined;
  if (bytes[0] === TLS_HANDSHAKE) return 'tls';
  const n = Math.min(bytes.length, H2_PREFACE.length);
  if (bytes.subarray(0, n).equals(H2_PREFACE.subarray(0, n))) return n === H2_PREFACE.length ? 'h2c' : undefined;
  return 'http1';
}

/**
 * Waits for enough bytes to classify the connection and hands the socket
 * on (paused) with the bytes read so far, which the receiver must put back. A client that connects and sends nothing is closed
 * after `timeoutMs` instead of holding a socket forever.
 */
export function sniffConnection(
  socket: Socket,
  timeoutMs: number,
  onKind: (kind: ConnectionKind, socket: Socket, head: Buffer) => void,
): void {
  let seen: Buffer = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
    const kind = classifyFirstBytes(seen);
    if (kind === undefined) return;
    socket.off('data', onData);
    socket.off('timeout', onTimeout);
    socket.off('error', onError);
    socket.setTimeout(0);
    socket.pause();
    onKind(kind, socket, seen);
  };
  const onTimeout = () => socket.destroy();
  // Until a server owns the socket, nobody else would handle its errors.
  const onError = () => socket.destroy();
  socket.setTimeout(timeoutMs);
  socket.on('timeout', onTimeout);
  socket.on('error', onError);
  socket.on('data', onData);
}

/**
 * The socket as a stream that starts with `head` again. HTTP/1 and TLS pick
 * up bytes put back with `unshift`, but an HTTP/2 session reads the socket's
 * handle directly and would miss them, so h2c gets this wrapper instead (at
 * the cost of one copy through JS, on plaintext HTTP/2 only).
 */
export function replayingHead(socket: Socket, head: Buffer): Duplex {
  const stream = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk: Buffer, encoding: BufferEncoding, callback: (err?: Error | null) => void) {
      socket.write(chunk, encoding, callback);
    },
    final(callback: (err?: Error | null) => void) {
      socket.end(callback);
    },
    destroy(err: Error | null, callback: (err: Error | null) => void) {
      socket.destroy(err ?? undefined);
      callback(err);
    },
  });
  stream.push(head);
  socket.on('data', (chunk: Buffer) => {
    if (!stream.push(chunk)) socket.pause();
  });
  socket.on('end', () => stream.push(null));
  socket.on('error', (err) => stream.destroy(err));
  socket.on('close', () => stream.destroy());
  // What the HTTP/2 session and peer lookups read off a socket.
  Object.assign(stream, {
    remoteAddress: socket.remoteAddress,
    remotePort: socket.remotePort,
    localAddress: socket.localAddress,
    localPort: socket.localPort,
  });
  return stream;
}
