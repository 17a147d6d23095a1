/**
 * Certificates from the control plane's CA (`proxyless control-plane
 * --ca-tokens FILE`), as Istio's agent gets them from istiod: a key made
 * here (it never leaves the process), a CSR for this workload's SPIFFE ID,
 * and the signed chain plus the trust bundle in the answer.
 *
 * The first certificate is obtained with a bootstrap token; every renewal
 * after that proves identity with the certificate in force, so the token is
 * only needed at start. If a renewal by certificate is refused (the control
 * plane now has another CA), the token is tried once more. Renewal timing,
 * backoff and delivery are the shared CertificateRotator's.
 */
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { type ObtainedCertificate, requestWorkloadCertificate } from '../../control/ca-client.js';
import { isMeshError, MeshError } from '../../errors.js';
import { type MeshLogger, stderrLogger } from '../../telemetry/logger.js';
import { parseSpiffeId } from '../identity/spiffe.js';
import { IssuingProvider } from './issuing-provider.js';
import { buildWorkloadCertificate, type WorkloadCertificate } from './workload-certificate.js';

export interface ControlPlaneProviderOptions {
  /** This workload's SPIFFE ID. */
  readonly spiffeId: string;
  /** `host:port` of the control plane (plaintext), or `tls://host:port`. */
  readonly address: string;
  /** The bootstrap token, or a file holding it (read at each token-based request, so it can be replaced). */
  readonly token?: string;
  readonly tokenFile?: string;
  /** PEM bundle verifying a `tls://` address; the system's roots when absent. */
  readonly caFile?: string;
  /** Requested lifetime; the CA may shorten it, never lengthen it. */
  readonly ttlMs?: number;
  readonly renewAt?: number;
  readonly retryDelayMs?: number;
  readonly logger?: MeshLogger;
}

/** gRPC statuses that mean the CA answered no, rather than could not be reached. */
const REFUSALS = new Set<number>([grpc.status.UNAUTHENTICATED, grpc.status.PERMISSION_DENIED, grpc.status.INVALID_ARGUMENT]);

export class ControlPlaneCertificateProvider extends IssuingProvider {
  readonly #options: ControlPlaneProviderOptions;
  readonly #spiffeId: string;
  readonly #target: string;
  readonly #tls: boolean;

  constructor(options: ControlPlaneProviderOptions) {
    const spiffeId = parseSpiffeId(options.spiffeId, 'workload SPIFFE ID').uri;
    super({ name: spiffeId, logger: options.logger ?? stderrLogger(), renewAt: options.renewAt, retryDelayMs: options.retryDelayMs });
    this.#spiffeId = spiffeId;
    this.#options = options;
    this.#tls = options.address.startsWith('tls://');
    this.#target = options.address.replace(/^(tls|grpc|http):\/\//, '');
  }

  protected async issue(signal: AbortSignal): Promise<WorkloadCertificate> {
    const current = this.rotator.current();
    if (current !== undefined) {
      try {
        return await this.#request(signal, { current: { chainPem: current.chainPem, keyPem: current.keyPem } });
      } catch (err) {
        // A certificate the CA no longer accepts (another root after a restart): fall back to the token.
        if (!(isMeshError(err) && err.code === 'MESH_CERTIFICATE_REFUSED') || !this.#hasToken()) throw err;
      }
    }
    return this.#request(signal, { token: this.#token() });
  }

  async #request(
    signal: AbortSignal,
    auth: { token?: string; current?: { chainPem: string; keyPem: string } },
  ): Promise<WorkloadCertificate> {
    const where = `control-plane CA at ${this.#options.address}`;
    let obtained: ObtainedCertificate;
    try {
      obtained = await requestWorkloadCertificate({
        address: this.#target,
        spiffeId: this.#spiffeId,
        ...auth,
        ...(this.#options.ttlMs !== undefined ? { ttlMs: this.#options.ttlMs } : {}),
        credentials: this.#credentials(),
      });
    } catch (err) {
      throw this.#typed(err, auth.token !== undefined ? 'bootstrap token' : 'current certificate');
    }
    // A closed provider discards the answer (the rotator ignores it too); checked here so nothing is built for it.
    if (signal.aborted) throw signal.reason;
    return buildWorkloadCertificate(obtained, { where, spiffeId: this.#spiffeId });
  }

  #typed(err: unknown, credential: string): MeshError {
    if (isMeshError(err)) return err;
    const e = err as Partial<grpc.ServiceError>;
    const code = typeof e.code === 'number' ? e.code : undefined;
    const reason = e.details ?? (err instanceof Error ? err.message : String(err));
    const details = { source: this.#options.address, grpcStatus: code, spiffeId: this.#spiffeId };
    if (code !== undefined && REFUSALS.has(code)) {
      return new MeshError(
        'MESH_CERTIFICATE_REFUSED',
        `the control-plane CA at ${this.#options.address} refused a certificate for ${this.#spiffeId} (authenticated by the ${credential}): ${reason}`,
        { details, cause: err },
      );
    }
    return new MeshError('MESH_CONNECT_FAILURE', `cannot reach the control-plane CA at ${this.#options.address}: ${reason}`, {
      details,
      cause: err,
    });
  }

  #hasToken(): boolean {
    return this.#options.token !== undefined || this.#options.tokenFile !== undefined;
  }

  #token(): string {
    if (this.#options.token !== undefined) return this.#options.token;
    const file = this.#options.tokenFile;
    if (file === undefined) {
      throw new MeshError('MESH_CERTIFICATE_REFUSED', `no bootstrap token for the control-plane CA: set MESH_CA_TOKEN or MESH_CA_TOKEN_FILE`);
    }
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new MeshError('MESH_CERTIFICATE_REFUSED', `cannot read the bootstrap token file ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, {
        details: { source: file },
      });
    }
    const token = text.trim();
    if (token === '') throw new MeshError('MESH_CERTIFICATE_REFUSED', `the bootstrap token file ${file} is empty`, { details: { source: file } });
    return token;
  }

  #credentials(): grpc.ChannelCredentials {
    if (!this.#tls) return grpc.credentials.createInsecure();
    const ca = this.#options.caFile !== undefined ? readFileSync(this.#options.caFile) : undefined;
    return grpc.credentials.createSsl(ca);
  }
}
