/**
 * A provider that issues its certificates itself (from the development CA,
 * or by asking the control plane's CA) and leaves when to renew, retries
 * and delivery to the shared CertificateRotator. A subclass says only how
 * one certificate is obtained.
 */
import type { MeshLogger } from '../../telemetry/logger.js';
import type { CertificateListener, CertificateProvider } from './provider.js';
import { CertificateRotator } from './rotation.js';
import type { WorkloadCertificate } from './workload-certificate.js';

export interface IssuingProviderOptions {
  /** Names the identity in logs and errors (its SPIFFE ID). */
  readonly name: string;
  readonly logger: MeshLogger;
  readonly renewAt?: number | undefined;
  readonly retryDelayMs?: number | undefined;
}

export abstract class IssuingProvider implements CertificateProvider {
  protected readonly rotator: CertificateRotator;

  constructor(options: IssuingProviderOptions) {
    this.rotator = new CertificateRotator({
      name: options.name,
      logger: options.logger,
      ...(options.renewAt !== undefined ? { renewAt: options.renewAt } : {}),
      ...(options.retryDelayMs !== undefined ? { retryDelayMs: options.retryDelayMs } : {}),
      issue: (signal) => this.issue(signal),
    });
  }

  /** Obtain one certificate; a rejection is retried by the rotator with backoff, keeping the current one. */
  protected abstract issue(signal: AbortSignal): Promise<WorkloadCertificate>;

  start(): this {
    this.rotator.start();
    return this;
  }

  current(): WorkloadCertificate | undefined {
    return this.rotator.current();
  }

  ready(options?: { signal?: AbortSignal }): Promise<WorkloadCertificate> {
    return this.rotator.ready(options);
  }

  subscribe(listener: CertificateListener): () => void {
    return this.rotator.subscribe(listener);
  }

  /** Renew now; rejects with the issuer's error, keeping the current certificate. */
  rotateNow(): Promise<WorkloadCertificate> {
    return this.rotator.rotateNow();
  }

  nextRenewalAt(): number | undefined {
    return this.rotator.nextRenewalAt();
  }

  close(): Promise<void> {
    return this.rotator.close();
  }
}
