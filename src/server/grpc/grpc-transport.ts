/**
 * The mesh gRPC server's transport: one listening port in the Security
 * modes (STRICT / PERMISSIVE / DISABLE, per-port overrides, read per
 * connection), feeding a grpc-js Server through its public connection
 * injector (`server.createConnectionInjector`, grpc-js >= 1.12).
 *
 * Why the mesh terminates TLS itself instead of handing grpc-js secure
 * ServerCredentials: an injector built from secure credentials runs its
 * own TLS server over every injected socket, so it could not share a port
 * with plaintext (PERMISSIVE), and its credentials cannot follow the mesh's
 * rotating workload certificate. So the injector is made with insecure
 * credentials, and each connection reaches it as either
 * - a TLSSocket the mesh already terminated (a `tls.Server` that never
 *   listens, with the workload certificate, client certificates required,
 *   ALPN `h2`): node's HTTP/2 server accepts an established TLSSocket
 *   whose ALPN is `h2` as it would its own, and grpc-js's
 *   `call.getAuthContext()` still sees the peer certificate; or
 * - the plaintext socket, as is (DISABLE), or with the bytes read to tell
 *   TLS from plaintext replayed in front (PERMISSIVE; first-bytes.ts).
 * A rotation installs the new secure context for new handshakes only.
 *
 * grpc-js never tells an interceptor which socket a call came on, only its
 * addresses (`call.getConnectionInfo()`), so the transport keeps each live
 * connection's verified peer by remote address and port, computed once per
 * connection.
 */
import { type AddressInfo, createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createServer as createTlsServer, type TLSSocket, type Server as TlsServer } from 'node:tls';
import type { ConnectionInjector } from '@grpc/grpc-js';
import { MeshError } from '../../errors.js';
import type { Drainable } from '../drain.js';
import { replayingHead, sniffConnection } from '../first-bytes.js';
import type { LocalSide } from '../inbound-view.js';
import type { MtlsMode, ServerTlsSource } from '../mesh-server.js';
import { OpenConnections } from '../open-connections.js';
import { listenOuter } from '../outer-listen.js';
import { type Peer, peerOfSocket } from '../peer.js';

/** The modes as of now; read for every new connection. */
export type ModesSource = () => { readonly mode: MtlsMode; readonly portLevelMtls: Readonly<Record<number, MtlsMode>> };

export interface GrpcTransportOptions {
  readonly injector: ConnectionInjector;
  readonly modes: ModesSource;
  /** Required unless every port is DISABLE. */
  readonly tls?: ServerTlsSource | undefined;
  readonly firstByteTimeoutMs?: number | undefined;
  readonly onTlsError?: ((err: Error) => void) | undefined;
}

/** Who is on a connection and which local address it reached, as authorization reads them. */
export interface ConnectionSides {
  readonly peer: Peer;
  readonly local: LocalSide;
}

export class GrpcTransport implements Drainable {
  readonly #options: GrpcTransportOptions;
  readonly #outer: NetServer;
  readonly #secure: TlsServer | undefined;
  readonly #connections = new OpenConnections();
  readonly #sides = new Map<string, ConnectionSides>();
  readonly #unsubscribe: (() => void) | undefined;
  #closing = false;

  constructor(options: GrpcTransportOptions) {
    this.#options = options;
    const live = options.modes();
    const modes = [live.mode, ...Object.values(live.portLevelMtls)];
    if (options.tls === undefined && modes.some((m) => m !== 'DISABLE')) {
      throw new MeshError(
        'MESH_INVALID_ARGUMENT',
        `mTLS mode ${modes.find((m) => m !== 'DISABLE')} needs a workload certificate; configure one (docs/security.md) or use mode DISABLE`,
      );
    }
    if (options.tls !== undefined) {
      const source = options.tls;
      const secure = createTlsServer({ requestCert: true, rejectUnauthorized: true, ALPNProtocols: ['h2'], minVersion: 'TLSv1.2' });
      secure.on('secureConnection', (tlsSocket: TLSSocket) => this.#inject(tlsSocket, tlsSocket));
      secure.on('tlsClientError', (err, socket) => {
        options.onTlsError?.(err);
        socket.destroy();
      });
      this.#unsubscribe = source.subscribe(() => secure.setSecureContext(source.current()));
      this.#secure = secure;
    }
    this.#outer = createNetServer((socket) => this.#accept(socket));
  }

  /** The peer and local side of the live connection from `remoteAddress:remotePort`. */
  sidesOf(remoteAddress: string | undefined, remotePort: number | undefined): ConnectionSides | undefined {
    return this.#sides.get(`${remoteAddress} ${remotePort}`);
  }

  /** The mode for connections accepted on `port`; without a certificate only plaintext is possible. */
  modeFor(port: number): MtlsMode {
    const live = this.#options.modes();
    const mode = live.portLevelMtls[port] ?? live.mode;
    return this.#secure === undefined ? 'DISABLE' : mode;
  }

  #accept(socket: Socket): void {
    this.#connections.add(socket);
    const mode = this.modeFor(socket.localPort ?? 0);
    if (mode === 'STRICT') {
      this.#secure!.emit('connection', socket);
      return;
    }
    if (mode === 'DISABLE') {
      // Plaintext only: grpc-js reads the socket's handle directly, with no copy.
      this.#inject(socket, socket);
      return;
    }
    sniffConnection(socket, this.#options.firstByteTimeoutMs ?? 10_000, (kind, s, head) => {
      if (kind === 'tls') {
        // TLS picks up bytes put back with unshift; HTTP/2 on a raw socket would not (first-bytes.ts).
        s.unshift(head);
        this.#secure!.emit('connection', s);
        return;
      }
      this.#inject(replayingHead(s, head), s);
    });
  }

  #inject(stream: Duplex, socket: Socket): void {
    if (this.#closing) {
      socket.destroy();
      return;
    }
    const s = stream as Socket;
    const key = `${s.remoteAddress} ${s.remotePort}`;
    this.#sides.set(key, { peer: peerOfSocket(socket), local: socket as LocalSide });
    socket.once('close', () => this.#sides.delete(key));
    this.#options.injector.injectConnection(stream);
  }

  listen(port = 0, host?: string): Promise<AddressInfo> {
    return listenOuter(this.#outer, this.#secure, this.#options.tls, port, host);
  }

  address(): AddressInfo | undefined {
    return (this.#outer.address() as AddressInfo | null) ?? undefined;
  }

  /**
   * Stop accepting, and send every HTTP/2 session a GOAWAY: calls in flight
   * finish, no new call starts on these connections. Resolves when every
   * connection has closed; `graceMs` later, sessions still open are cancelled.
   */
  close(graceMs = 10_000): Promise<void> {
    if (!this.#closing) {
      this.#closing = true;
      this.#unsubscribe?.();
      if (this.#outer.listening) this.#outer.close();
      this.#options.injector.drain(graceMs);
    }
    return this.#connections.whenNone();
  }

  /** HTTP/2 sessions close themselves once their last call ends after the GOAWAY: nothing more to sweep. */
  closeIdle(): void {}

  /** Close every connection now. */
  closeAll(): void {
    this.#connections.destroyAll();
  }

  /** Stop at once: the listener, the injector's sessions and every connection. */
  destroy(): void {
    this.#closing = true;
    this.#unsubscribe?.();
    if (this.#outer.listening) this.#outer.close();
    this.#options.injector.destroy();
    this.closeAll();
  }
}
