/**
 * Certificates for local runs, with no control plane and no mounted files: a
 * root CA created on first use and kept on disk (default
 * `~/.proxyless/dev-ca`), so every service started on the machine shares one
 * trust domain and restarts keep trusting each other. Leaves are issued in
 * memory and renewed by the rotator like any issued certificate.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { type MeshLogger, stderrLogger } from '../../telemetry/logger.js';
import { parseSpiffeId } from '../identity/spiffe.js';
import type { CertificateAuthority } from './ca.js';
import { loadOrCreateCaDirectory } from './ca-store.js';
import type { CertificateListener, CertificateProvider } from './provider.js';
import { CertificateRotator } from './rotation.js';
import type { WorkloadCertificate } from './workload-certificate.js';

export interface DevCaProviderOptions {
  /** This workload's SPIFFE ID; its trust domain is the CA's. */
  readonly spiffeId: string;
  /** Where the CA lives. Default `~/.proxyless/dev-ca`. */
  readonly dir?: string;
  /** Leaf lifetime. Default 24 h. */
  readonly workloadTtlMs?: number;
  readonly renewAt?: number;
  readonly logger?: MeshLogger;
}

export function defaultDevCaDir(): string {
  return join(homedir(), '.proxyless', 'dev-ca');
}

export class DevCaProvider implements CertificateProvider {
  readonly #rotator: CertificateRotator;
  readonly #dir: string;
  readonly #trustDomain: string;
  readonly #workloadTtlMs: number | undefined;
  readonly #logger: MeshLogger;
  #ca: Promise<CertificateAuthority> | undefined;

  constructor(options: DevCaProviderOptions) {
    const id = parseSpiffeId(options.spiffeId, 'workload SPIFFE ID');
    this.#dir = options.dir ?? defaultDevCaDir();
    this.#trustDomain = id.trustDomain;
    this.#workloadTtlMs = options.workloadTtlMs;
    this.#logger = options.logger ?? stderrLogger();
    this.#rotator = new CertificateRotator({
      name: id.uri,
      logger: this.#logger,
      ...(options.renewAt !== undefined ? { renewAt: options.renewAt } : {}),
      issue: async () => (await this.ca()).issue({ spiffeId: id.uri }),
    });
  }

  /** The development CA, loaded or created on first call. */
  ca(): Promise<CertificateAuthority> {
    this.#ca ??= loadOrCreateCaDirectory(this.#dir, {
      trustDomain: this.#trustDomain,
      logger: this.#logger,
      ...(this.#workloadTtlMs !== undefined ? { workloadTtlMs: this.#workloadTtlMs } : {}),
    }).then(
      (r) => r.ca,
      (err) => {
        // A failed load is retried by the rotator's next attempt, not cached.
        this.#ca = undefined;
        throw err;
      },
    );
    return this.#ca;
  }

  start(): this {
    this.#rotator.start();
    return this;
  }

  current(): WorkloadCertificate | undefined {
    return this.#rotator.current();
  }

  ready(options?: { signal?: AbortSignal }): Promise<WorkloadCertificate> {
    return this.#rotator.ready(options);
  }

  subscribe(listener: CertificateListener): () => void {
    return this.#rotator.subscribe(listener);
  }

  rotateNow(): Promise<WorkloadCertificate> {
    return this.#rotator.rotateNow();
  }

  close(): Promise<void> {
    return this.#rotator.close();
  }
}
