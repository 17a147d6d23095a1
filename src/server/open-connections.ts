/**
 * The connections a mesh server has accepted and not yet seen close, so a
 * drain can wait for the last one and a destroy can cut them all. Both
 * the HTTP and the gRPC server accept on an outer TCP server of their own,
 * so neither inner server's bookkeeping sees every socket.
 */
import type { Socket } from 'node:net';

export class OpenConnections {
  readonly #sockets = new Set<Socket>();
  readonly #waiting: (() => void)[] = [];

  add(socket: Socket): void {
    this.#sockets.add(socket);
    socket.once('close', () => {
      this.#sockets.delete(socket);
      if (this.#sockets.size === 0) for (const resolve of this.#waiting.splice(0)) resolve();
    });
  }

  get size(): number {
    return this.#sockets.size;
  }

  /** Resolves once no connection is open (at once when none is). */
  whenNone(): Promise<void> {
    if (this.#sockets.size === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.#waiting.push(resolve));
  }

  destroyAll(): void {
    for (const s of this.#sockets) s.destroy();
  }
}
