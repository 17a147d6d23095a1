/**
 * Graceful drain of every server the mesh knows: what Kubernetes expects
 * between SIGTERM and SIGKILL. Readiness is already false (the mesh is
 * closing); after `delay` the listeners close so no new connection is
 * accepted, idle keep-alive connections close at once, and responses still
 * to come carry `Connection: close`. Requests in flight get until `timeout`
 * to finish; whatever connection is left then is closed.
 *
 * The signal handlers are installed only when a server or adapter attaches,
 * removed on close, and never keep the process alive. When the mesh was the
 * only listener for the signal, it raises the signal again once drained, so
 * the process ends the way it would have without the mesh.
 */
import type { InboundPipeline } from './inbound-pipeline.js';

/** A server the drain can close: node's HTTP(S)/HTTP2 servers, or the mesh's own. */
export interface Drainable {
  /** Stop accepting; resolves once every connection has closed. */
  close(): Promise<void>;
  /** Close keep-alive connections that have no request in flight. */
  closeIdle(): void;
  /** Close every connection now. */
  closeAll(): void;
}

/** The structural shape of node's http/https/http2 servers (no import of a framework). */
export interface NodeServerLike {
  close(callback?: (err?: Error) => void): unknown;
  closeIdleConnections?(): void;
  closeAllConnections?(): void;
  readonly listening: boolean;
  on(event: 'close', listener: () => void): unknown;
}

export function drainableServer(server: NodeServerLike): Drainable {
  return {
    close: () =>
      new Promise<void>((resolve) => {
        if (!server.listening) {
          // Already closed by someone else: wait for its connections to go.
          server.on('close', () => resolve());
          server.close(() => resolve());
          return;
        }
        server.close(() => resolve());
      }),
    closeIdle: () => server.closeIdleConnections?.(),
    closeAll: () => server.closeAllConnections?.(),
  };
}

export interface DrainSettings {
  readonly timeout: number;
  readonly delay: number;
  readonly signals: readonly NodeJS.Signals[];
}

const IDLE_SWEEP_MS = 50;

/** Every mesh's signal handler in the process, so a mesh can tell them from the application's. */
const meshHandlers = new WeakSet<(...args: never[]) => unknown>();
/** Meshes still draining after a signal: the signal is raised again only when none is. */
let shuttingDown = 0;

export class InboundDrain {
  readonly #pipeline: InboundPipeline;
  readonly #servers = new Map<object, Drainable>();
  readonly #onSignal: (signal: NodeJS.Signals) => void;
  #signals: readonly NodeJS.Signals[] = [];
  #listening = false;
  #draining: Promise<void> | undefined;

  /** `onSignal` starts the shutdown (the mesh's close()) and resolves when it is done. */
  constructor(pipeline: InboundPipeline, onSignal: (signal: NodeJS.Signals) => Promise<void>) {
    this.#pipeline = pipeline;
    const handler = (signal: NodeJS.Signals) => {
      // Only meshes listen (several meshes may, in one process): the signal's own action is to end the process.
      const onlyMeshes = process.listeners(signal).every((l) => meshHandlers.has(l));
      this.#unlisten();
      shuttingDown++;
      void onSignal(signal).finally(() => {
        // The last mesh to finish ends the process as the signal would have, unless someone else now handles it.
        if (--shuttingDown === 0 && onlyMeshes && process.listenerCount(signal) === 0) process.kill(process.pid, signal);
      });
    };
    meshHandlers.add(handler);
    this.#onSignal = handler;
  }

  /** Which signals start a drain (config); takes effect for attached servers at once. */
  configure(signals: readonly NodeJS.Signals[]): void {
    this.#signals = signals;
    if (this.#listening) {
      this.#unlisten();
      this.#listen();
    }
  }

  /** Drain this server with the mesh; the first attach installs the signal handlers. */
  track(key: object, server: Drainable): void {
    if (this.#draining !== undefined || this.#servers.has(key)) return;
    this.#servers.set(key, server);
    if (!this.#listening) this.#listen();
  }

  untrack(key: object): void {
    this.#servers.delete(key);
  }

  /** True once the drain began. */
  get started(): boolean {
    return this.#draining !== undefined;
  }

  drain(settings: Pick<DrainSettings, 'timeout' | 'delay'>): Promise<void> {
    this.#draining ??= this.#run(settings);
    return this.#draining;
  }

  async #run({ timeout, delay }: Pick<DrainSettings, 'timeout' | 'delay'>): Promise<void> {
    this.#unlisten();
    const idle = this.#pipeline.drain();
    if (delay > 0) await sleep(delay);
    const servers = [...this.#servers.values()];
    const closed = Promise.all(servers.map((s) => s.close()));
    // Connections finish their last response with Connection: close; sweep
    // up the few that went idle without one (a response begun before the drain).
    const sweep = setInterval(() => {
      for (const s of servers) s.closeIdle();
    }, IDLE_SWEEP_MS);
    sweep.unref();
    for (const s of servers) s.closeIdle();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeout);
      timer.unref();
    });
    await Promise.race([idle.then(() => closed), deadline]);
    clearInterval(sweep);
    clearTimeout(timer);
    for (const s of servers) s.closeAll();
    await Promise.race([closed, sleep(IDLE_SWEEP_MS * 4)]);
    this.#servers.clear();
  }

  #listen(): void {
    this.#listening = true;
    for (const s of this.#signals) process.on(s, this.#onSignal);
  }

  #unlisten(): void {
    this.#listening = false;
    for (const s of ['SIGTERM', 'SIGINT'] as const) process.off(s, this.#onSignal);
  }

  /** No drain: the signal handlers go, every attached server closes with its connections (destroy()). */
  destroy(): void {
    this.#unlisten();
    this.#draining ??= Promise.resolve();
    for (const s of this.#servers.values()) {
      void s.close();
      s.closeAll();
    }
    this.#servers.clear();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
