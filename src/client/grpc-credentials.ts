/**
 * A gRPC channel's TLS, from the same per-destination setting the HTTP
 * pools use (`tls.mode`): `mutual` presents the workload certificate and
 * checks the server's SPIFFE ID (never its hostname: endpoints are pod
 * IPs), `simple` is ordinary server-verified TLS, and no setting is
 * plaintext. The workload certificate reaches grpc-js through its
 * certificate-provider interface, so a rotation applies to new
 * connections without rebuilding the channel.
 */
import { type ChannelCredentials, credentials, experimental } from '@grpc/grpc-js';
import type { ClientTlsSource, TransportSecurity } from '../security/tls/transport-security.js';

export function channelCredentials(security: TransportSecurity | undefined): ChannelCredentials {
  if (security === undefined) return credentials.createInsecure();
  if (security.mode === 'simple') return credentials.createSsl(security.ca === undefined ? null : Buffer.from(security.ca));
  const provider = new WorkloadCertificates(security.workload!);
  return experimental.createCertificateProviderChannelCredentials(provider, provider, {
    checkServerIdentity: (host, cert) => security.checkPeer(cert.subjectaltname, host),
  });
}

/** grpc-js's CertificateProvider over the mesh's workload certificate source. */
class WorkloadCertificates implements experimental.CertificateProvider {
  readonly #source: ClientTlsSource;
  readonly #ca = new Set<experimental.CaCertificateUpdateListener>();
  readonly #identity = new Set<experimental.IdentityCertificateUpdateListener>();
  #unsubscribe: (() => void) | undefined;

  constructor(source: ClientTlsSource) {
    this.#source = source;
  }

  addCaCertificateListener(listener: experimental.CaCertificateUpdateListener): void {
    this.#ca.add(listener);
    this.#watch();
    const c = this.#current();
    if (c !== undefined) listener({ caCertificate: Buffer.from(c.ca) });
  }
  removeCaCertificateListener(listener: experimental.CaCertificateUpdateListener): void {
    this.#ca.delete(listener);
    this.#unwatchIfIdle();
  }
  addIdentityCertificateListener(listener: experimental.IdentityCertificateUpdateListener): void {
    this.#identity.add(listener);
    this.#watch();
    const c = this.#current();
    if (c !== undefined) listener({ certificate: Buffer.from(c.cert), privateKey: Buffer.from(c.key) });
  }

  /** Undefined until the first certificate arrives; grpc-js holds its connections until the listeners hear of it. */
  #current(): ReturnType<ClientTlsSource['current']> | undefined {
    try {
      return this.#source.current();
    } catch {
      return undefined;
    }
  }
  removeIdentityCertificateListener(listener: experimental.IdentityCertificateUpdateListener): void {
    this.#identity.delete(listener);
    this.#unwatchIfIdle();
  }

  #watch(): void {
    this.#unsubscribe ??= this.#source.subscribe(() => {
      const c = this.#source.current();
      for (const l of this.#ca) l({ caCertificate: Buffer.from(c.ca) });
      for (const l of this.#identity) l({ certificate: Buffer.from(c.cert), privateKey: Buffer.from(c.key) });
    });
  }

  #unwatchIfIdle(): void {
    if (this.#ca.size > 0 || this.#identity.size > 0) return;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }
}
