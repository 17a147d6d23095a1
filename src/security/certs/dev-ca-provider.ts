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
import { IssuingProvider } from './issuing-provider.js';
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

export class DevCaProvider extends IssuingProvider {
  readonly #dir: string;
  readonly #trustDomain: string;
  readonly #workloadTtlMs: number | undefined;
  readonly #logger: MeshLogger;
  #ca: Promise<CertificateAuthority> | undefined;

  readonly #spiffeId: string;

  constructor(options: DevCaProviderOptions) {
    const id = parseSpiffeId(options.spiffeId, 'workload SPIFFE ID');
    const logger = options.logger ?? stderrLogger();
    super({ name: id.uri, logger, renewAt: options.renewAt });
    this.#spiffeId = id.uri;
    this.#dir = options.dir ?? defaultDevCaDir();
    this.#trustDomain = id.trustDomain;
    this.#workloadTtlMs = options.workloadTtlMs;
    this.#logger = logger;
  }

  protected async issue(): Promise<WorkloadCertificate> {
    return (await this.ca()).issue({ spiffeId: this.#spiffeId });
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
}
