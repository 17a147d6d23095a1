/**
 * A workload's TLS material as one immutable value: key, chain, trust bundle
 * and the identity they prove. Every source (files, the dev CA, the control
 * plane's CA) produces it through `buildWorkloadCertificate`, so all of them
 * are held to the same checks.
 *
 * The private key is a non-enumerable property: it is there for whoever asks
 * for `cert.keyPem`, but logging, `JSON.stringify` or `util.inspect` of the
 * value never print it (spreading the object drops it too, on purpose).
 */
import type { X509Certificate } from 'node:crypto';
import { checkSpiffeId } from '../identity/spiffe.js';
import { subjectAltNamesOf } from './certificate-info.js';
import { tryPrivateKey } from './key-pair.js';
import { certificateError, parseCertificates, splitPem } from './pem.js';
import { chainProblem, parseTrustBundle } from './trust-bundle.js';

export interface WorkloadCertificate {
  readonly spiffeId: string;
  readonly trustDomain: string;
  /** The leaf alone. */
  readonly certificatePem: string;
  /** Leaf first, then intermediates: what an endpoint presents (TLS `cert`). */
  readonly chainPem: string;
  /** PKCS#8 or PKCS#1 PEM as supplied. Non-enumerable; see the module comment. */
  readonly keyPem: string;
  /** Trust anchors, one PEM each (TLS `ca`). */
  readonly trustBundlePems: readonly string[];
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Upper-case hex. */
  readonly serialNumber: string;
}

export interface WorkloadMaterial {
  readonly chainPem: string;
  readonly keyPem: string;
  readonly trustBundlePem: string | readonly string[];
}

export interface BuildOptions {
  /** Names the material's origin in errors, e.g. `files in /var/run/secrets/certs`. */
  readonly where: string;
  readonly now?: Date;
  /** When set, the leaf's SPIFFE ID must be in this trust domain. */
  readonly trustDomain?: string;
  /** When set, the leaf must carry exactly this SPIFFE ID. */
  readonly spiffeId?: string;
  /** Tolerance for a notBefore in the future (clocks differ between issuer and us). Default 60 s. */
  readonly clockSkewMs?: number;
}

const DEFAULT_SKEW_MS = 60_000;

/**
 * Validate material and wrap it. Throws `MESH_CERTIFICATE_INVALID` naming
 * what is wrong: malformed PEM, a key that is not a key or does not match the
 * leaf, a leaf without exactly one SPIFFE URI SAN or outside the trust
 * domain, a CA certificate as the leaf, a chain that does not verify to the
 * bundle, or anything expired. Messages never include key bytes.
 */
export function buildWorkloadCertificate(material: WorkloadMaterial, options: BuildOptions): WorkloadCertificate {
  const { where } = options;
  const now = options.now ?? new Date();
  const fail = (reason: string) => certificateError(`${where}: ${reason}`, where, reason);

  const chain = parseCertificates(material.chainPem, `${where}: certificate chain`);
  const bundle = parseTrustBundle(material.trustBundlePem, `${where}: trust bundle`);

  // Checked before parsing so a PEM error names the shape, never the contents.
  const keyBlocks = splitPem(material.keyPem);
  if ('reason' in keyBlocks) throw fail(`the private key is not valid PEM (${keyBlocks.reason})`);
  if (keyBlocks.blocks.length !== 1 || !/PRIVATE KEY$/.test(keyBlocks.blocks[0]!.label)) {
    throw fail('the private key file must hold exactly one PRIVATE KEY block');
  }
  const key = tryPrivateKey(material.keyPem);
  if (key === undefined) throw fail('the private key does not parse (encrypted or corrupt)');

  const leaf: X509Certificate = chain[0]!.x509;
  if (!leaf.checkPrivateKey(key)) throw fail('the private key does not match the leaf certificate');
  if (leaf.ca) throw fail('the leaf certificate is a CA certificate');

  const sans = subjectAltNamesOf(leaf);
  if (sans.uris.length !== 1) {
    throw fail(`the leaf must have exactly one URI SAN (a SPIFFE ID); it has ${sans.uris.length}`);
  }
  const checked = checkSpiffeId(sans.uris[0]!);
  if (!checked.ok) throw fail(`the leaf's URI SAN is not a valid SPIFFE ID: ${checked.reason}`);
  const { uri: spiffeId, trustDomain } = checked.id;
  if (options.spiffeId !== undefined && spiffeId !== options.spiffeId) {
    throw fail(`the leaf's SPIFFE ID ${spiffeId} is not this workload's (${options.spiffeId})`);
  }
  if (options.trustDomain !== undefined && trustDomain !== options.trustDomain) {
    throw fail(`the leaf's SPIFFE ID ${spiffeId} is outside trust domain ${options.trustDomain}`);
  }

  const problem = chainProblem(
    chain.map((c) => c.x509),
    bundle,
    now,
    options.clockSkewMs ?? DEFAULT_SKEW_MS,
  );
  if (problem !== undefined) throw fail(problem);

  const cert = {
    spiffeId,
    trustDomain,
    certificatePem: chain[0]!.pem,
    chainPem: chain.map((c) => c.pem).join(''),
    trustBundlePems: Object.freeze([...bundle.pems]),
    notBefore: leaf.validFromDate,
    notAfter: leaf.validToDate,
    serialNumber: leaf.serialNumber.toUpperCase(),
  };
  Object.defineProperty(cert, 'keyPem', { value: material.keyPem, enumerable: false });
  return Object.freeze(cert) as WorkloadCertificate;
}

/** The options `tls.createSecureContext` takes, with the bundle concatenated as Node accepts it. */
export function secureContextOptions(cert: WorkloadCertificate): { key: string; cert: string; ca: string } {
  return { key: cert.keyPem, cert: cert.chainPem, ca: cert.trustBundlePems.join('') };
}

/** True when two values would build the same SecureContext. */
export function sameMaterial(a: WorkloadCertificate | undefined, b: WorkloadCertificate | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  return (
    a.chainPem === b.chainPem &&
    a.keyPem === b.keyPem &&
    a.trustBundlePems.length === b.trustBundlePems.length &&
    a.trustBundlePems.every((p, i) => p === b.trustBundlePems[i])
  );
}

/** Fraction of the validity period elapsed at `now` (0 at notBefore, 1 at notAfter). */
export function lifetimeElapsed(cert: WorkloadCertificate, now: number): number {
  const start = cert.notBefore.getTime();
  const span = cert.notAfter.getTime() - start;
  return span <= 0 ? 1 : (now - start) / span;
}
