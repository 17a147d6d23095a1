/**
 * Renewal for certificates this process obtains itself (the dev CA now, the
 * control plane's CA later). One timer per identity, unref'd, re-armed after
 * each attempt: renewal at a fraction of the certificate's lifetime (half, by
 * default, as Istio does), so a failed renewal leaves the other half to retry
 * in, with backoff, before anything expires.
 *
 * New material goes to listeners; the TLS layers build a new SecureContext
 * from it, which new connections use while open ones drain on the old one.
 * No request waits on renewal.
 */
import { MeshError } from '../../errors.js';
import { type MeshLogger, stderrLogger } from '../../telemetry/logger.js';
import type { CertificateListener, CertificateProvider } from './provider.js';
import { ProviderState } from './provider-state.js';
import type { WorkloadCertificate } from './workload-certificate.js';

/**
 * Obtains fresh material. Implementations return validated material (built
 * with `buildWorkloadCertificate`) and honour the signal, which aborts when
 * the rotator closes.
 */
export type CertificateIssuer = (signal: AbortSignal) => Promise<WorkloadCertificate>;

export interface RotatorOptions {
  readonly issue: CertificateIssuer;
  /** Names the identity in logs and errors. */
  readonly name: string;
  /** Fraction of the lifetime after which to renew, in (0, 1). Default 0.5. */
  readonly renewAt?: number;
  /** First retry delay after a failed issuance; doubles up to `maxRetryDelayMs`. Default 1 s. */
  readonly retryDelayMs?: number;
  readonly maxRetryDelayMs?: number;
  readonly logger?: MeshLogger;
}

/** setTimeout fires at once for delays beyond 2^31-1 ms; longer waits are taken in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class CertificateRotator implements CertificateProvider {
  readonly #issue: CertificateIssuer;
  readonly #name: string;
  readonly #renewAt: number;
  readonly #retryDelayMs: number;
  readonly #maxRetryDelayMs: number;
  readonly #logger: MeshLogger;
  readonly #state: ProviderState;
  readonly #abort = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  /** When the armed timer is due, as an epoch-ms deadline; read by tests and diagnostics. */
  #dueAt: number | undefined;
  #inFlight: Promise<WorkloadCertificate> | undefined;
  #failures = 0;
  #started = false;

  constructor(options: RotatorOptions) {
    const renewAt = options.renewAt ?? 0.5;
    if (!(renewAt > 0 && renewAt < 1)) throw new RangeError(`renewAt must be between 0 and 1; got ${renewAt}`);
    this.#issue = options.issue;
    this.#name = options.name;
    this.#renewAt = renewAt;
    this.#retryDelayMs = options.retryDelayMs ?? 1000;
    this.#maxRetryDelayMs = options.maxRetryDelayMs ?? 60_000;
    this.#logger = options.logger ?? stderrLogger();
    this.#state = new ProviderState(options.name, this.#logger);
  }

  /** Begin issuing. Idempotent; `ready()` calls it. */
  start(): this {
    if (this.#started || this.#state.closed) return this;
    this.#started = true;
    void this.#renew().catch(() => {});
    return this;
  }

  current(): WorkloadCertificate | undefined {
    return this.#state.current();
  }

  ready(options: { signal?: AbortSignal } = {}): Promise<WorkloadCertificate> {
    this.start();
    return this.#state.ready(options.signal);
  }

  subscribe(listener: CertificateListener): () => void {
    return this.#state.subscribe(listener);
  }

  /**
   * Renew now, for example when the control plane announces a new trust
   * bundle. Joins a renewal already in flight. Rejects with the issuer's
   * error, leaving the current material in force.
   */
  rotateNow(): Promise<WorkloadCertificate> {
    if (this.#state.closed) {
      return Promise.reject(new MeshError('MESH_CLOSED', `certificate rotator for ${this.#name} is closed`));
    }
    this.#started = true;
    return this.#renew();
  }

  /** Epoch ms of the next scheduled renewal or retry, if one is armed. */
  nextRenewalAt(): number | undefined {
    return this.#dueAt;
  }

  async close(): Promise<void> {
    if (this.#state.closed) return;
    this.#state.close();
    this.#clearTimer();
    // The issuer is told to stop; an issuer that ignores the signal is not waited for,
    // since whatever it returns is discarded.
    this.#abort.abort();
  }

  #renew(): Promise<WorkloadCertificate> {
    if (this.#inFlight !== undefined) return this.#inFlight;
    this.#clearTimer();
    this.#inFlight = this.#attempt();
    return this.#inFlight;
  }

  async #attempt(): Promise<WorkloadCertificate> {
    let cert: WorkloadCertificate;
    try {
      // Deferred a microtask so #inFlight is set before the issuer runs, even if it throws synchronously.
      cert = await Promise.resolve().then(() => this.#issue(this.#abort.signal));
    } catch (err) {
      // Cleared before anything is delivered, so a caller reacting to the outcome starts a fresh attempt.
      this.#inFlight = undefined;
      if (this.#state.closed) throw err;
      this.#failures++;
      const delay = Math.min(this.#retryDelayMs * 2 ** (this.#failures - 1), this.#maxRetryDelayMs);
      const current = this.#state.current();
      this.#logger.warn('certificate renewal failed; retrying', {
        identity: this.#name,
        attempt: this.#failures,
        retryInMs: delay,
        currentExpires: current?.notAfter.toISOString(),
        error: err instanceof Error ? err.message : String(err),
      });
      this.#arm(Date.now() + delay);
      throw err;
    }
    this.#inFlight = undefined;
    if (this.#state.closed) return cert;
    this.#failures = 0;
    this.#state.publish(cert);
    const start = cert.notBefore.getTime();
    this.#arm(start + (cert.notAfter.getTime() - start) * this.#renewAt);
    return cert;
  }

  #arm(dueAt: number): void {
    this.#clearTimer();
    if (this.#state.closed) return;
    this.#dueAt = dueAt;
    const delay = Math.max(0, Math.min(dueAt - Date.now(), MAX_TIMER_MS));
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (Date.now() < dueAt) this.#arm(dueAt);
      else void this.#renew().catch(() => {});
    }, delay);
    this.#timer.unref();
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#dueAt = undefined;
  }

  /** For tests: whether the armed timer keeps the process alive. */
  timerHasRef(): boolean | undefined {
    return this.#timer?.hasRef();
  }
}
