/**
 * The two certificate profiles the CA issues, built with forge.
 *
 * - CA (root or intermediate): basicConstraints CA critical, keyCertSign and
 *   cRLSign, its trust-domain ID as URI SAN, and a critical URI name
 *   constraint permitting only the trust domain.
 * - Workload leaf (an X.509-SVID): empty subject, so the SAN carrying the
 *   SPIFFE ID is critical (RFC 5280 §4.2.1.6); CA:false; digitalSignature and
 *   keyEncipherment; serverAuth and clientAuth, since every workload is both.
 *
 * Both carry subject and authority key identifiers and a random serial, which
 * `openssl verify -x509_strict` requires.
 */
import type { KeyObject } from 'node:crypto';
import { forge, nativeRsaSigner, randomSerialHex, sha256 } from './forge-glue.js';
import { trustDomainNameConstraint } from './name-constraints.js';

type Field = forge.pki.CertificateField;

interface Common {
  readonly publicKeyPem: string;
  readonly issuer: readonly Field[];
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** The issuer's subject key identifier; undefined for a self-signed certificate. */
  readonly authorityKeyId: forge.Bytes | undefined;
}

export interface CaTemplate extends Common {
  readonly subject: readonly Field[];
  readonly trustDomain: string;
  /** 0 for an intermediate that signs only leaves; undefined for no limit. */
  readonly pathLen: number | undefined;
}

export interface LeafTemplate extends Common {
  readonly spiffeId: string;
}

const URI = 6;

export function caCertificate(t: CaTemplate): forge.pki.Certificate {
  const cert = base(t);
  cert.setSubject([...t.subject]);
  cert.setIssuer(t.authorityKeyId === undefined ? [...t.subject] : [...t.issuer]);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true, ...(t.pathLen === undefined ? {} : { pathLenConstraint: t.pathLen }) },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: t.authorityKeyId ?? true },
    { name: 'subjectAltName', altNames: [{ type: URI, value: `spiffe://${t.trustDomain}` }] },
    trustDomainNameConstraint(t.trustDomain),
  ]);
  return cert;
}

export function leafCertificate(t: LeafTemplate): forge.pki.Certificate {
  if (t.authorityKeyId === undefined) throw new TypeError('a workload certificate needs an issuer');
  const cert = base(t);
  cert.setSubject([]);
  cert.setIssuer([...t.issuer]);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: t.authorityKeyId },
    { name: 'subjectAltName', critical: true, altNames: [{ type: URI, value: t.spiffeId }] },
  ]);
  return cert;
}

/** Sign with SHA-256 and return PEM. */
export function signToPem(cert: forge.pki.Certificate, key: KeyObject): string {
  cert.sign(nativeRsaSigner(key), sha256());
  return forge.pki.certificateToPem(cert).replace(/\r\n/g, '\n');
}

/** The key identifier a child's authorityKeyIdentifier must carry: the CA's own SKI if it has one. */
export function subjectKeyIdOf(cert: forge.pki.Certificate): forge.Bytes {
  const ext = cert.getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier?: string } | null | undefined;
  if (ext?.subjectKeyIdentifier) return forge.util.hexToBytes(ext.subjectKeyIdentifier);
  return cert.generateSubjectKeyIdentifier().getBytes();
}

function base(t: Common): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  // Public key first: the SKI extension is computed from it when extensions are set.
  cert.publicKey = forge.pki.publicKeyFromPem(t.publicKeyPem);
  cert.serialNumber = randomSerialHex();
  cert.validity.notBefore = t.notBefore;
  cert.validity.notAfter = t.notAfter;
  return cert;
}
