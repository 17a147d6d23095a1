/**
 * The bookkeeping every provider shares: the current material, listeners,
 * the ready promise, and closing. Providers decide when material changes;
 * this decides how the change is delivered.
 */
import { MeshError } from '../../errors.js';
import type { MeshLogger } from '../../telemetry/logger.js';
import type { CertificateListener } from './provider.js';
import { sameMaterial, type WorkloadCertificate } from './workload-certificate.js';

export class ProviderState {
  readonly #name: string;
  readonly #logger: MeshLogger;
  readonly #listeners = new Set<CertificateListener>();
  readonly #waiters = new Set<{ resolve: (c: WorkloadCertificate) => void; reject: (e: unknown) => void }>();
  #current: WorkloadCertificate | undefined;
  #closed = false;

  constructor(name: string, logger: MeshLogger) {
    this.#name = name;
    this.#logger = logger;
  }

  get closed(): boolean {
    return this.#closed;
  }

  current(): WorkloadCertificate | undefined {
    return this.#current;
  }

  /** Install new material and notify; returns false when nothing changed or the provider is closed. */
  publish(next: WorkloadCertificate): boolean {
    if (this.#closed || sameMaterial(this.#current, next)) return false;
    this.#current = next;
    for (const waiter of this.#waiters) waiter.resolve(next);
    this.#waiters.clear();
    // Callers may be inside a user's call (rotateNow); delivering on a later
    // tick keeps the never-synchronous promise.
    const listeners = [...this.#listeners];
    queueMicrotask(() => {
      for (const listener of listeners) {
        if (this.#closed || !this.#listeners.has(listener) || this.#current !== next) continue;
        try {
          listener(next);
        } catch (err) {
          this.#logger.error('certificate listener threw', { provider: this.#name, error: String(err) });
        }
      }
    });
    return true;
  }

  ready(signal?: AbortSignal): Promise<WorkloadCertificate> {
    if (this.#current !== undefined) return Promise.resolve(this.#current);
    if (this.#closed) return Promise.reject(this.#closedError());
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.#waiters.delete(waiter);
        reject(signal!.reason);
      };
      const waiter = {
        resolve: (c: WorkloadCertificate) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(c);
        },
        reject: (e: unknown) => {
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
      };
      this.#waiters.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  subscribe(listener: CertificateListener): () => void {
    if (this.#closed) return () => {};
    // A wrapper makes each subscription distinct even for the same function.
    const entry: CertificateListener = (c) => listener(c);
    this.#listeners.add(entry);
    return () => {
      this.#listeners.delete(entry);
    };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#listeners.clear();
    const err = this.#closedError();
    for (const waiter of this.#waiters) waiter.reject(err);
    this.#waiters.clear();
  }

  #closedError(): MeshError {
    return new MeshError('MESH_CLOSED', `certificate provider ${this.#name} was closed before it had a certificate`);
  }
}

/** Log a rejected update once per distinct reason, so a bad file does not flood the log on every poll. */
export class RejectionLog {
  readonly #logger: MeshLogger;
  readonly #name: string;
  #last: string | undefined;

  constructor(name: string, logger: MeshLogger) {
    this.#name = name;
    this.#logger = logger;
  }

  report(err: unknown, summary = 'certificate update rejected; keeping the previous certificate'): void {
    const message = err instanceof Error ? err.message : String(err);
    if (message === this.#last) return;
    this.#last = message;
    const code = (err as { code?: unknown }).code;
    this.#logger.error(summary, {
      provider: this.#name,
      code: typeof code === 'string' ? code : undefined,
      error: message,
    });
  }

  clear(): void {
    this.#last = undefined;
  }
}
