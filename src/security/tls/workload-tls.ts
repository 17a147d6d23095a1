/**
 * The workload certificate as both TLS layers want it: key, chain and trust
 * bundle for a SecureContext, and a signal when they rotate. One object per
 * mesh, shared by the inbound server and every destination's pools.
 */

import { MeshError } from '../../errors.js';
import type { CertificateProvider } from '../certs/provider.js';
import { secureContextOptions, type WorkloadCertificate } from '../certs/workload-certificate.js';

export class WorkloadTls {
  readonly #provider: CertificateProvider;

  constructor(provider: CertificateProvider) {
    this.#provider = provider;
  }

  /** The certificate in force; undefined until the provider's first good load. */
  certificate(): WorkloadCertificate | undefined {
    return this.#provider.current();
  }

  current(): { key: string; cert: string; ca: string } {
    const cert = this.#provider.current();
    if (cert === undefined) {
      throw new MeshError('MESH_CERTIFICATE_INVALID', 'no workload certificate yet: await mesh.ready() before serving or calling with mTLS');
    }
    return secureContextOptions(cert);
  }

  ready(): Promise<WorkloadCertificate> {
    return this.#provider.ready();
  }

  subscribe(onChange: () => void): () => void {
    return this.#provider.subscribe(() => onChange());
  }
}
