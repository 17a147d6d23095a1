/**
 * Where a workload's certificate comes from: mounted files, the development
 * CA, or (later) the control plane's CA over a CSR. The TLS layers depend
 * only on this interface.
 *
 * Contract every provider keeps (the same as discovery providers'):
 * - `current()` is the last good material, never a rejected update;
 * - listeners are called asynchronously, never from inside `subscribe()`,
 *   and `subscribe()` does not replay: read `current()` after subscribing;
 * - every notification carries the complete material (leaf, chain, key and
 *   trust bundle), also when only the trust bundle changed;
 * - a bad update is refused with a `MESH_CERTIFICATE_INVALID` error that is
 *   logged, and the previous material keeps serving;
 * - nothing is called after `close()`.
 */
import type { WorkloadCertificate } from './workload-certificate.js';

export type CertificateListener = (certificate: WorkloadCertificate) => void;

export interface CertificateProvider {
  /** The material in force, or undefined before the first good load. */
  current(): WorkloadCertificate | undefined;
  /**
   * Resolves with the first good material. Rejects when the provider is
   * closed first or `signal` aborts; a failed load does not reject it, since
   * files may still appear and an issuer may recover.
   */
  ready(options?: { signal?: AbortSignal }): Promise<WorkloadCertificate>;
  /** Returns the unsubscribe function. */
  subscribe(listener: CertificateListener): () => void;
  close(): Promise<void>;
}
