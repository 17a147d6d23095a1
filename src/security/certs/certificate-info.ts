/**
 * What a certificate says, read with node:crypto (OpenSSL) so any key type
 * parses; forge's ASN.1 reader fills in only the NameConstraints extension,
 * which Node does not expose.
 */
import { X509Certificate } from 'node:crypto';
import { checkSpiffeId } from '../identity/spiffe.js';
import { forge } from './forge-glue.js';
import { decodeNameConstraints, NAME_CONSTRAINTS_OID, type NameConstraints } from './name-constraints.js';

export interface SubjectAltNames {
  readonly uris: readonly string[];
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
}

export interface CertificateInfo {
  readonly subject: string;
  readonly issuer: string;
  /** The certificate's only URI SAN when that is a valid SPIFFE ID; undefined otherwise. */
  readonly spiffeId: string | undefined;
  readonly subjectAltNames: SubjectAltNames;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Upper-case hex, as OpenSSL prints it. */
  readonly serialNumber: string;
  /** e.g. `RSA 2048`, `EC prime256v1`, `ED25519`. */
  readonly keyType: string;
  readonly isCa: boolean;
  readonly selfSigned: boolean;
  readonly fingerprint256: string;
  readonly nameConstraints: NameConstraints | undefined;
}

export function inspectCertificate(cert: X509Certificate | string): CertificateInfo {
  const x509 = typeof cert === 'string' ? new X509Certificate(cert) : cert;
  const sans = subjectAltNamesOf(x509);
  const ncDer = extensionValue(x509.raw, NAME_CONSTRAINTS_OID);
  return {
    subject: oneLine(x509.subject),
    issuer: oneLine(x509.issuer),
    spiffeId: spiffeIdOfSans(sans),
    subjectAltNames: sans,
    notBefore: x509.validFromDate,
    notAfter: x509.validToDate,
    serialNumber: x509.serialNumber.toUpperCase(),
    keyType: keyTypeOf(x509),
    isCa: x509.ca,
    selfSigned: x509.checkIssued(x509) && x509.verify(x509.publicKey),
    fingerprint256: x509.fingerprint256,
    nameConstraints: ncDer === undefined ? undefined : decodeNameConstraints(ncDer),
  };
}

/** The SPIFFE ID of an SVID: exactly one URI SAN, and it must be valid. */
export function spiffeIdOfSans(sans: SubjectAltNames): string | undefined {
  if (sans.uris.length !== 1) return undefined;
  const checked = checkSpiffeId(sans.uris[0]!);
  return checked.ok ? checked.id.uri : undefined;
}

/**
 * Parse Node's `subjectAltName` text (`DNS:a, URI:spiffe://…`). Values with
 * separators in them are JSON-quoted by Node, so they are read as JSON.
 */
export function subjectAltNamesOf(x509: X509Certificate): SubjectAltNames {
  const uris: string[] = [];
  const dnsNames: string[] = [];
  const ipAddresses: string[] = [];
  const text = x509.subjectAltName ?? '';
  let i = 0;
  while (i < text.length) {
    const colon = text.indexOf(':', i);
    if (colon < 0) break;
    const kind = text.slice(i, colon);
    let value: string;
    let end: number;
    if (text[colon + 1] === '"') {
      end = closingQuote(text, colon + 2);
      value = JSON.parse(text.slice(colon + 1, end + 1)) as string;
      end += 1;
    } else {
      end = text.indexOf(', ', colon + 1);
      if (end < 0) end = text.length;
      value = text.slice(colon + 1, end);
    }
    if (kind === 'URI') uris.push(value);
    else if (kind === 'DNS') dnsNames.push(value);
    else if (kind === 'IP Address') ipAddresses.push(value);
    i = end + 2;
  }
  return { uris, dnsNames, ipAddresses };
}

function closingQuote(text: string, from: number): number {
  for (let j = from; j < text.length; j++) {
    if (text[j] === '\\') j++;
    else if (text[j] === '"') return j;
  }
  return text.length - 1;
}

export function keyTypeOf(x509: X509Certificate): string {
  const key = x509.publicKey;
  const type = key.asymmetricKeyType ?? 'unknown';
  const details = key.asymmetricKeyDetails;
  if (type === 'rsa' || type === 'rsa-pss') return `${type.toUpperCase()} ${details?.modulusLength ?? '?'}`;
  if (type === 'ec') return `EC ${details?.namedCurve ?? '?'}`;
  return type.toUpperCase();
}

/**
 * The extnValue octets of one extension, read straight from the DER:
 * Certificate → tbsCertificate → [3] EXPLICIT Extensions → Extension.
 */
export function extensionValue(der: Buffer, oid: string): forge.Bytes | undefined {
  const { asn1 } = forge;
  const cert = asn1.fromDer(der.toString('binary'));
  const tbs = (cert.value as forge.asn1.Asn1[])[0];
  const fields = (tbs?.value ?? []) as forge.asn1.Asn1[];
  const wrapper = fields.find((f) => f.tagClass === asn1.Class.CONTEXT_SPECIFIC && f.type === 3);
  const list = (wrapper?.value as forge.asn1.Asn1[] | undefined)?.[0]?.value as forge.asn1.Asn1[] | undefined;
  for (const ext of list ?? []) {
    const parts = ext.value as forge.asn1.Asn1[];
    if (asn1.derToOid(parts[0]!.value as string) !== oid) continue;
    return parts[parts.length - 1]!.value as string;
  }
  return undefined;
}

/** Node prints DNs one attribute per line; tools and logs want `CN=a, O=b`. */
function oneLine(dn: string | undefined): string {
  // Node reports an empty name (an SVID's subject) as undefined.
  return (dn ?? '').split('\n').filter(Boolean).join(', ');
}
