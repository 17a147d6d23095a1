/**
 * A certificate authority for one trust domain: a root, or an intermediate
 * under one, that issues short-lived workload certificates (X.509-SVIDs).
 *
 * The trust domain is enforced twice: in code (`issue` and `signCsr` refuse
 * an ID from another trust domain) and in the CA certificate's name
 * constraint, so that every TLS peer refuses such a leaf too.
 *
 * The private key is a native KeyObject held in a private field; it leaves
 * only through `exportPem()`, for persisting the CA.
 */
import { createPublicKey, type KeyObject, X509Certificate } from 'node:crypto';
import { MeshError } from '../../errors.js';
import { checkTrustDomain, parseSpiffeId, type SpiffeId } from '../identity/spiffe.js';
import { type CaMaterial, checkCaMaterial } from './ca-material.js';
import { caCertificate, leafCertificate, signToPem, subjectKeyIdOf } from './certificate-templates.js';
import { type CsrRequest, readCsr } from './csr.js';
import { forge } from './forge-glue.js';
import { generateRsaKeyPair, tryPrivateKey } from './key-pair.js';
import { buildWorkloadCertificate, type WorkloadCertificate } from './workload-certificate.js';

export type { CaMaterial } from './ca-material.js';

const HOUR = 3_600_000;
export const DEFAULT_WORKLOAD_TTL_MS = 24 * HOUR;
export const DEFAULT_ROOT_TTL_MS = 10 * 365 * 24 * HOUR;
export const DEFAULT_INTERMEDIATE_TTL_MS = 365 * 24 * HOUR;
/** Backdating absorbs clock differences between this CA and the peers that check its certificates. */
const BACKDATE_MS = 60_000;

export interface CreateRootOptions {
  readonly trustDomain: string;
  readonly ttlMs?: number;
  readonly workloadTtlMs?: number;
  readonly commonName?: string;
}

export interface IntermediateOptions {
  readonly ttlMs?: number;
  readonly workloadTtlMs?: number;
  readonly commonName?: string;
}

export interface IssuedCertificate {
  readonly spiffeId: string;
  readonly certificatePem: string;
  /** Leaf, then the intermediates; what the workload presents. */
  readonly chainPem: string;
  readonly trustBundlePems: readonly string[];
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly serialNumber: string;
}

export interface CsrSigningOptions {
  /**
   * Decides whether the caller may have this identity (a control plane
   * compares it with the caller's authenticated service account). A false
   * result refuses with `MESH_PERMISSION_DENIED`.
   */
  readonly authorize?: (request: CsrRequest) => boolean | Promise<boolean>;
  readonly ttlMs?: number;
}

export class CertificateAuthority {
  readonly trustDomain: string;
  readonly certificatePem: string;
  readonly trustBundlePems: readonly string[];
  readonly workloadTtlMs: number;
  readonly notAfter: Date;
  readonly #key: KeyObject;
  readonly #cert: forge.pki.Certificate;
  readonly #notBefore: Date;
  readonly #parents: readonly string[];
  readonly #isRoot: boolean;

  private constructor(material: CaMaterial, trustDomain: string, key: KeyObject, workloadTtlMs: number) {
    this.trustDomain = trustDomain;
    this.certificatePem = material.certificatePem;
    this.trustBundlePems = Object.freeze([...material.trustBundlePems]);
    this.workloadTtlMs = workloadTtlMs;
    this.#key = key;
    this.#cert = forge.pki.certificateFromPem(material.certificatePem);
    this.#notBefore = this.#cert.validity.notBefore;
    this.notAfter = this.#cert.validity.notAfter;
    this.#parents = Object.freeze([...material.parentChainPems]);
    this.#isRoot = material.trustBundlePems.includes(material.certificatePem);
  }

  /** A new self-signed root for `trustDomain`. */
  static async createRoot(options: CreateRootOptions): Promise<CertificateAuthority> {
    const problem = checkTrustDomain(options.trustDomain);
    if (problem !== undefined) {
      throw new MeshError('MESH_INVALID_ARGUMENT', `invalid trust domain ${JSON.stringify(options.trustDomain)}: ${problem}`);
    }
    const keys = await generateRsaKeyPair();
    const now = Date.now();
    const subject = [
      { shortName: 'O', value: options.trustDomain },
      { shortName: 'CN', value: options.commonName ?? 'proxyless root CA' },
    ];
    const cert = caCertificate({
      publicKeyPem: keys.publicKeyPem,
      subject,
      issuer: subject,
      notBefore: new Date(now - BACKDATE_MS),
      notAfter: new Date(now + (options.ttlMs ?? DEFAULT_ROOT_TTL_MS)),
      authorityKeyId: undefined,
      trustDomain: options.trustDomain,
      pathLen: undefined,
    });
    const key = tryPrivateKey(keys.privateKeyPem)!;
    const pem = signToPem(cert, key);
    const material = { certificatePem: pem, keyPem: keys.privateKeyPem, parentChainPems: [], trustBundlePems: [pem] };
    return new CertificateAuthority(material, options.trustDomain, key, options.workloadTtlMs ?? DEFAULT_WORKLOAD_TTL_MS);
  }

  /**
   * Load a CA from PEM (for example istiod's `cacerts` files). The trust
   * domain comes from `options.trustDomain`, else from the certificate's URI
   * name constraint, else from its `spiffe://<trust-domain>` SAN. The key
   * must be RSA and match the certificate.
   */
  static fromPem(material: CaMaterial, options: { trustDomain?: string; workloadTtlMs?: number } = {}): CertificateAuthority {
    const checked = checkCaMaterial(material, options.trustDomain);
    return new CertificateAuthority(
      checked.material,
      checked.trustDomain,
      checked.key,
      options.workloadTtlMs ?? DEFAULT_WORKLOAD_TTL_MS,
    );
  }

  /** A new intermediate signed by this CA, for the same trust domain, that may sign only leaves. */
  async createIntermediate(options: IntermediateOptions = {}): Promise<CertificateAuthority> {
    const keys = await generateRsaKeyPair();
    const now = Date.now();
    const cert = caCertificate({
      publicKeyPem: keys.publicKeyPem,
      subject: [
        { shortName: 'O', value: this.trustDomain },
        { shortName: 'CN', value: options.commonName ?? 'proxyless intermediate CA' },
      ],
      issuer: this.#cert.subject.attributes,
      ...this.#validity(now, options.ttlMs ?? DEFAULT_INTERMEDIATE_TTL_MS),
      authorityKeyId: subjectKeyIdOf(this.#cert),
      trustDomain: this.trustDomain,
      pathLen: 0,
    });
    const pem = signToPem(cert, this.#key);
    const material: CaMaterial = {
      certificatePem: pem,
      keyPem: keys.privateKeyPem,
      parentChainPems: this.#isRoot ? [] : [this.certificatePem, ...this.#parents],
      trustBundlePems: this.trustBundlePems,
    };
    const ttl = options.workloadTtlMs ?? this.workloadTtlMs;
    return new CertificateAuthority(material, this.trustDomain, tryPrivateKey(keys.privateKeyPem)!, ttl);
  }

  /** Issue a workload certificate with a freshly generated key. */
  async issue(options: { spiffeId: string; ttlMs?: number }): Promise<WorkloadCertificate> {
    const id = this.#admit(parseSpiffeId(options.spiffeId, 'workload SPIFFE ID'));
    const keys = await generateRsaKeyPair();
    const issued = this.#sign(id, keys.publicKeyPem, options.ttlMs);
    return buildWorkloadCertificate(
      { chainPem: issued.chainPem, keyPem: keys.privateKeyPem, trustBundlePem: issued.trustBundlePems },
      { where: `certificate issued by the ${this.trustDomain} CA`, trustDomain: this.trustDomain },
    );
  }

  /** Certify a public key the caller already holds the private half of. */
  signPublicKey(spiffeId: string, publicKeyPem: string, ttlMs?: number): IssuedCertificate {
    return this.#sign(this.#admit(parseSpiffeId(spiffeId, 'workload SPIFFE ID')), publicKeyPem, ttlMs);
  }

  /**
   * Sign a PEM CSR as received from a workload: its signature must verify,
   * its one URI SAN must be a SPIFFE ID in this trust domain, and the
   * authorizer (if any) must accept it. Only the SPIFFE ID is copied into the
   * certificate; the validity is this CA's, not the request's.
   */
  async signCsr(csrPem: string, options: CsrSigningOptions = {}): Promise<IssuedCertificate> {
    const request = readCsr(csrPem);
    const id = this.#admit(request.spiffeId);
    if (options.authorize !== undefined && !(await options.authorize(request))) {
      throw new MeshError('MESH_PERMISSION_DENIED', `the CSR for ${id.uri} was refused by the authorizer`, {
        details: { spiffeId: id.uri },
      });
    }
    return this.#sign(id, request.publicKeyPem, options.ttlMs);
  }

  /** Everything needed to recreate this CA with `fromPem`, including the private key. */
  exportPem(): CaMaterial {
    return {
      certificatePem: this.certificatePem,
      keyPem: this.#key.export({ type: 'pkcs8', format: 'pem' }) as string,
      parentChainPems: this.#parents,
      trustBundlePems: this.trustBundlePems,
    };
  }

  #admit(id: SpiffeId): SpiffeId {
    if (id.trustDomain !== this.trustDomain) {
      throw new MeshError(
        'MESH_CERTIFICATE_INVALID',
        `refusing to issue for ${id.uri}: it is outside trust domain ${this.trustDomain}`,
        { details: { spiffeId: id.uri, trustDomain: this.trustDomain } },
      );
    }
    if (id.path === '') {
      throw new MeshError('MESH_CERTIFICATE_INVALID', `refusing to issue for ${id.uri}: a workload ID needs a path`, {
        details: { spiffeId: id.uri },
      });
    }
    return id;
  }

  #sign(id: SpiffeId, publicKeyPem: string, ttlMs: number | undefined): IssuedCertificate {
    const ttl = ttlMs ?? this.workloadTtlMs;
    if (!(ttl > 0)) throw new MeshError('MESH_INVALID_ARGUMENT', `certificate TTL must be positive; got ${ttl}`);
    let keyType: string | undefined;
    try {
      keyType = createPublicKey(publicKeyPem).asymmetricKeyType;
    } catch {
      keyType = undefined;
    }
    if (keyType !== 'rsa') {
      throw new MeshError('MESH_CERTIFICATE_INVALID', `the public key for ${id.uri} must be RSA; got ${keyType ?? 'no key'}`);
    }
    const now = Date.now();
    const leaf = leafCertificate({
      publicKeyPem,
      spiffeId: id.uri,
      issuer: this.#cert.subject.attributes,
      ...this.#validity(now, ttl),
      authorityKeyId: subjectKeyIdOf(this.#cert),
    });
    const pem = signToPem(leaf, this.#key);
    const intermediates = this.#isRoot ? [] : [this.certificatePem, ...this.#parents];
    const x509 = new X509Certificate(pem);
    return {
      spiffeId: id.uri,
      certificatePem: pem,
      chainPem: [pem, ...intermediates].join(''),
      trustBundlePems: this.trustBundlePems,
      notBefore: x509.validFromDate,
      notAfter: x509.validToDate,
      serialNumber: x509.serialNumber.toUpperCase(),
    };
  }

  /** A child never starts before or outlives this CA. */
  #validity(now: number, ttlMs: number): { notBefore: Date; notAfter: Date } {
    const notBefore = Math.max(now - BACKDATE_MS, this.#notBefore.getTime());
    const notAfter = Math.min(now + ttlMs, this.notAfter.getTime());
    if (notAfter <= now) {
      throw new MeshError('MESH_CERTIFICATE_INVALID', `the ${this.trustDomain} CA expired at ${this.notAfter.toISOString()}`);
    }
    return { notBefore: new Date(notBefore), notAfter: new Date(notAfter) };
  }
}
