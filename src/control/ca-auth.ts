/**
 * Who may get a certificate for which SPIFFE ID. Two ways to prove it:
 *
 * - a bootstrap token (`authorization: Bearer <token>`), bound in the
 *   control plane's token file to the identities it may obtain
 *   (`spiffe://td/ns/shop/sa/cart`, or `spiffe://td/ns/shop/sa/*` for a
 *   namespace);
 * - for renewal, the caller's current certificate: it sends that chain
 *   (`x-proxyless-certificate`, base64 PEM) and a signature over the CSR
 *   made with the current certificate's key (`x-proxyless-csr-signature`,
 *   base64 RSA-SHA256). The chain must be issued by this CA and unexpired,
 *   and may only renew its own SPIFFE ID. The channel is plaintext, but a
 *   replayed request only certifies the public key in its CSR, whose private
 *   key the eavesdropper does not have.
 *
 * Nothing else is trusted: no token and no certificate is UNAUTHENTICATED.
 */
import { createHash, createVerify, timingSafeEqual, X509Certificate } from 'node:crypto';
import type { Metadata } from '@grpc/grpc-js';
import { MeshError } from '../errors.js';
import type { CertificateAuthority } from '../security/certs/ca.js';
import { inspectCertificate, spiffeIdOfSans } from '../security/certs/certificate-info.js';
import type { CsrRequest } from '../security/certs/csr.js';
import { parseCertificates } from '../security/certs/pem.js';

export const CERTIFICATE_HEADER = 'x-proxyless-certificate';
export const SIGNATURE_HEADER = 'x-proxyless-csr-signature';

export interface TokenGrant {
  readonly token: string;
  /** Exact SPIFFE IDs, or a prefix ending in `/*`. */
  readonly identities: readonly string[];
}

/** Decides whether the caller (its metadata) may have the identity in `request`; throws to refuse. */
export type CaAuthenticator = (metadata: Metadata, request: CsrRequest, csrPem: string) => void;

export function caAuthenticator(ca: CertificateAuthority, grants: readonly TokenGrant[]): CaAuthenticator {
  const hashed = grants.map((g) => ({ digest: digest(g.token), identities: g.identities }));
  return (metadata, request, csrPem) => {
    const wanted = request.spiffeId.uri;
    const auth = String(metadata.get('authorization')[0] ?? '');
    if (auth !== '') {
      const match = /^Bearer\s+(.+)$/i.exec(auth);
      if (match === null) throw unauthenticated('the authorization header must be "Bearer <token>"');
      const presented = digest(match[1]!.trim());
      const grant = hashed.find((g) => timingSafeEqual(g.digest, presented));
      if (grant === undefined) throw unauthenticated('the bootstrap token is not known to this control plane');
      if (!grant.identities.some((pattern) => identityMatches(pattern, wanted))) {
        throw new MeshError('MESH_PERMISSION_DENIED', `this bootstrap token may not obtain ${wanted}`, { details: { spiffeId: wanted } });
      }
      return;
    }
    const chain = String(metadata.get(CERTIFICATE_HEADER)[0] ?? '');
    if (chain === '') throw unauthenticated(`present a bootstrap token (authorization: Bearer) or the current certificate (${CERTIFICATE_HEADER})`);
    const holder = currentIdentity(ca, Buffer.from(chain, 'base64').toString('utf8'));
    const signature = Buffer.from(String(metadata.get(SIGNATURE_HEADER)[0] ?? ''), 'base64');
    const verifier = createVerify('sha256');
    verifier.update(csrPem);
    if (signature.length === 0 || !verifier.verify(holder.cert.publicKey, signature)) {
      throw unauthenticated(`${SIGNATURE_HEADER} is not a signature over the CSR by the current certificate's key`);
    }
    if (holder.spiffeId !== wanted) {
      throw new MeshError('MESH_PERMISSION_DENIED', `a certificate for ${holder.spiffeId} may renew only itself, not ${wanted}`, {
        details: { spiffeId: wanted },
      });
    }
  };
}

function currentIdentity(ca: CertificateAuthority, chainPem: string): { cert: X509Certificate; spiffeId: string } {
  const [leaf] = parseCertificates(chainPem, CERTIFICATE_HEADER);
  if (leaf === undefined) throw unauthenticated(`${CERTIFICATE_HEADER} holds no certificate`);
  const issuer = new X509Certificate(ca.certificatePem);
  const now = Date.now();
  if (!leaf.x509.checkIssued(issuer) || !leaf.x509.verify(issuer.publicKey)) {
    throw unauthenticated(`the certificate in ${CERTIFICATE_HEADER} was not issued by this CA`);
  }
  if (leaf.x509.validFromDate.getTime() > now || leaf.x509.validToDate.getTime() <= now) {
    throw unauthenticated(`the certificate in ${CERTIFICATE_HEADER} is not currently valid (expires ${leaf.x509.validTo})`);
  }
  const spiffeId = spiffeIdOfSans(inspectCertificate(leaf.x509).subjectAltNames);
  if (spiffeId === undefined) throw unauthenticated(`the certificate in ${CERTIFICATE_HEADER} carries no SPIFFE ID`);
  return { cert: leaf.x509, spiffeId };
}

function identityMatches(pattern: string, id: string): boolean {
  return pattern.endsWith('/*') ? id.startsWith(pattern.slice(0, -1)) && id.length > pattern.length - 1 : pattern === id;
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

function unauthenticated(message: string): MeshError {
  return new MeshError('MESH_UNAUTHENTICATED', message);
}
