/**
 * Checking CA material loaded from outside (files, a Kubernetes secret)
 * before a CertificateAuthority is built on it, and finding which trust
 * domain it serves.
 */
import type { KeyObject, X509Certificate } from 'node:crypto';
import { checkSpiffeId } from '../identity/spiffe.js';
import { inspectCertificate } from './certificate-info.js';
import { tryPrivateKey } from './key-pair.js';
import { certificateError, parseCertificates } from './pem.js';

export interface CaMaterial {
  /** This CA's certificate. */
  readonly certificatePem: string;
  readonly keyPem: string;
  /** Intermediates between this CA and the root, nearest first; empty for a root or a direct child of one. */
  readonly parentChainPems: readonly string[];
  /** The root(s) peers trust. For a root CA, its own certificate. */
  readonly trustBundlePems: readonly string[];
}

/**
 * Validate: one CA certificate, an RSA key that matches it (forge signs only
 * RSA), a non-empty trust bundle, and a trust domain, taken from
 * `trustDomain` when given (it must then agree with what the certificate
 * declares). PEM is normalised so certificates compare by text.
 */
export function checkCaMaterial(
  material: CaMaterial,
  trustDomain: string | undefined,
): { material: CaMaterial; key: KeyObject; trustDomain: string } {
  const where = 'CA material';
  const fail = (reason: string) => certificateError(`${where}: ${reason}`, where, reason);
  const [parsed] = parseCertificates(material.certificatePem, `${where}: CA certificate`);
  if (parsed === undefined) throw fail('no CA certificate');
  const x509 = parsed.x509;
  if (!x509.ca) throw fail('the certificate is not a CA certificate');
  const key = tryPrivateKey(material.keyPem);
  if (key === undefined) throw fail('the CA key does not parse');
  if (key.asymmetricKeyType !== 'rsa') throw fail('the CA key must be RSA');
  if (!x509.checkPrivateKey(key)) throw fail('the CA key does not match the CA certificate');
  const bundle = material.trustBundlePems.flatMap((p) => parseCertificates(p, `${where}: trust bundle`).map((c) => c.pem));
  if (bundle.length === 0) throw fail('the trust bundle is empty');
  const parents = material.parentChainPems.flatMap((p) => parseCertificates(p, `${where}: CA chain`).map((c) => c.pem));

  const declared = trustDomainOf(x509);
  const chosen = trustDomain ?? declared;
  if (chosen === undefined) throw fail('the CA certificate names no trust domain; pass one explicitly');
  if (declared !== undefined && declared !== chosen) {
    throw fail(`the CA certificate is for trust domain ${declared}, not ${chosen}`);
  }
  return {
    material: { certificatePem: parsed.pem, keyPem: material.keyPem, parentChainPems: parents, trustBundlePems: bundle },
    key,
    trustDomain: chosen,
  };
}

/** A CA's trust domain: its single URI name constraint, else its single spiffe:// SAN. */
export function trustDomainOf(x509: X509Certificate): string | undefined {
  const info = inspectCertificate(x509);
  const permitted = info.nameConstraints?.permittedUris ?? [];
  if (permitted.length === 1 && !permitted[0]!.startsWith('.')) return permitted[0];
  const [uri] = info.subjectAltNames.uris;
  if (info.subjectAltNames.uris.length !== 1 || uri === undefined) return undefined;
  const checked = checkSpiffeId(uri);
  return checked.ok ? checked.id.trustDomain : undefined;
}
