/**
 * The X.509 NameConstraints extension (RFC 5280 §4.2.1.10), limited to what a
 * SPIFFE CA needs: permitting URI names whose host is the trust domain. With
 * it on the CA certificate, any standard verifier (OpenSSL, Go, BoringSSL)
 * rejects a leaf whose SPIFFE ID names another trust domain, even if the CA
 * key were misused to sign one.
 *
 *   NameConstraints ::= SEQUENCE {
 *     permittedSubtrees [0] GeneralSubtrees OPTIONAL,
 *     excludedSubtrees  [1] GeneralSubtrees OPTIONAL }
 *   GeneralSubtrees ::= SEQUENCE SIZE (1..MAX) OF GeneralSubtree
 *   GeneralSubtree ::= SEQUENCE {
 *     base GeneralName,
 *     minimum [0] BaseDistance DEFAULT 0,
 *     maximum [1] BaseDistance OPTIONAL }
 *
 * The module uses implicit tagging, so [0] replaces the SEQUENCE OF tag
 * (constructed) and the URI GeneralName is [6] in place of IA5String
 * (primitive). `minimum` is omitted because DER forbids encoding a default,
 * and `maximum` because RFC 5280 forbids it.
 */
import { forge } from './forge-glue.js';

export const NAME_CONSTRAINTS_OID = '2.5.29.30';
const URI_TAG = 6;

export interface NameConstraints {
  /** Hosts (or `.domain` suffixes) that URI names must match; empty when unconstrained. */
  readonly permittedUris: readonly string[];
  readonly excludedUris: readonly string[];
  /** GeneralName tags of other constrained name forms, for display. */
  readonly otherForms: readonly number[];
}

/** The DER of a NameConstraints value permitting exactly these URI hosts. */
export function encodeUriNameConstraints(permittedHosts: readonly string[]): forge.Bytes {
  if (permittedHosts.length === 0) throw new TypeError('GeneralSubtrees needs at least one subtree');
  const { asn1 } = forge;
  const subtrees = permittedHosts.map((host) => {
    if (!/^[\x21-\x7e]+$/.test(host)) throw new TypeError(`${JSON.stringify(host)} is not an IA5 host name`);
    return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
      asn1.create(asn1.Class.CONTEXT_SPECIFIC, URI_TAG, false, host),
    ]);
  });
  const value = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, subtrees),
  ]);
  return asn1.toDer(value).getBytes();
}

/** The extension for forge's `setExtensions`, marked critical as RFC 5280 requires of CAs. */
export function trustDomainNameConstraint(trustDomain: string): { id: string; critical: true; value: forge.Bytes } {
  return { id: NAME_CONSTRAINTS_OID, critical: true, value: encodeUriNameConstraints([trustDomain]) };
}

/** Decode a NameConstraints extension value (DER); throws on a malformed one. */
export function decodeNameConstraints(der: forge.Bytes): NameConstraints {
  const { asn1 } = forge;
  const root = asn1.fromDer(der);
  const permittedUris: string[] = [];
  const excludedUris: string[] = [];
  const otherForms: number[] = [];
  if (root.tagClass !== asn1.Class.UNIVERSAL || root.type !== asn1.Type.SEQUENCE || !Array.isArray(root.value)) {
    throw new TypeError('NameConstraints is not a SEQUENCE');
  }
  for (const trees of root.value) {
    if (trees.tagClass !== asn1.Class.CONTEXT_SPECIFIC || (trees.type !== 0 && trees.type !== 1) || !Array.isArray(trees.value)) {
      throw new TypeError('NameConstraints has an element other than [0] or [1]');
    }
    const into = trees.type === 0 ? permittedUris : excludedUris;
    for (const subtree of trees.value) {
      const base = Array.isArray(subtree.value) ? subtree.value[0] : undefined;
      if (base === undefined || base.tagClass !== asn1.Class.CONTEXT_SPECIFIC) {
        throw new TypeError('GeneralSubtree has no GeneralName base');
      }
      if (base.type === URI_TAG && typeof base.value === 'string') into.push(base.value);
      else otherForms.push(base.type);
    }
  }
  return { permittedUris, excludedUris, otherForms };
}

/** The constraints on a forge certificate, or undefined when it has none. */
export function nameConstraintsOf(cert: forge.pki.Certificate): NameConstraints | undefined {
  const ext = (cert.extensions as Array<{ id: string; value: forge.Bytes }>).find((e) => e.id === NAME_CONSTRAINTS_OID);
  return ext === undefined ? undefined : decodeNameConstraints(ext.value);
}
