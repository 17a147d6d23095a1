/**
 * Trust bundles (the CA certificates peers are verified against) and the
 * chain check every piece of workload material passes before it is served.
 *
 * The check mirrors what a TLS peer will do with the chain, so a broken
 * update is refused here, while the previous material still serves, rather
 * than discovered as failed handshakes: each certificate must be in its
 * validity period, be issued (name and key identifier) and signed by the next
 * one, and the path must end at a bundle certificate. Name constraints and
 * policy are left to the TLS stack, which enforces them anyway.
 */
import type { X509Certificate } from 'node:crypto';
import { certificateError, type ParsedCertificate, parseCertificates } from './pem.js';

export interface TrustBundle {
  /** One PEM per certificate, in file order. */
  readonly pems: readonly string[];
  readonly certificates: readonly X509Certificate[];
}

/** Parse a bundle; `what` names its origin in errors. Throws MESH_CERTIFICATE_INVALID. */
export function parseTrustBundle(text: string | readonly string[], what: string): TrustBundle {
  const joined = typeof text === 'string' ? text : text.join('\n');
  const parsed: ParsedCertificate[] = parseCertificates(joined, what);
  return { pems: parsed.map((p) => p.pem), certificates: parsed.map((p) => p.x509) };
}

export function sameBundle(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((pem, i) => pem === b[i]);
}

/**
 * Why `chain` (leaf first) does not verify to `bundle` at `now`, or undefined
 * when it does. `skewMs` tolerates a notBefore slightly in the future.
 */
export function chainProblem(
  chain: readonly X509Certificate[],
  bundle: TrustBundle,
  now: Date,
  skewMs = 0,
): string | undefined {
  if (chain.length === 0) return 'the chain is empty';
  const isAnchor = (c: X509Certificate) => bundle.certificates.some((a) => a.raw.equals(c.raw));
  for (let i = 0; i < chain.length; i++) {
    const cert = chain[i]!;
    const label = i === 0 ? 'the leaf' : `chain certificate ${i + 1} (${(cert.subject ?? '').replace(/\n/g, ', ')})`;
    const period = validityProblem(cert, now, skewMs);
    if (period !== undefined) return `${label} ${period}`;
    if (i > 0 && !cert.ca) return `${label} is not a CA but is in the chain as an issuer`;
    // A chain may end with the root itself, as Istio's cert-chain.pem can.
    if (i > 0 && isAnchor(cert)) return undefined;
    const next = chain[i + 1];
    if (next !== undefined) {
      if (!cert.checkIssued(next)) return `${label} was not issued by the next certificate in the chain`;
      if (!cert.verify(next.publicKey)) return `${label}'s signature does not verify with the next certificate's key`;
      continue;
    }
    const anchor = bundle.certificates.find((a) => cert.checkIssued(a) && cert.verify(a.publicKey));
    if (anchor === undefined) {
      return `${label} was not issued by any trust bundle certificate (the chain may be truncated or from another CA)`;
    }
    const anchorPeriod = validityProblem(anchor, now, skewMs);
    if (anchorPeriod !== undefined) return `the trust bundle certificate that issued the chain ${anchorPeriod}`;
    return undefined;
  }
  return undefined;
}

function validityProblem(cert: X509Certificate, now: Date, skewMs: number): string | undefined {
  if (cert.validToDate.getTime() <= now.getTime()) return `expired at ${cert.validToDate.toISOString()}`;
  if (cert.validFromDate.getTime() > now.getTime() + skewMs) return `is not valid before ${cert.validFromDate.toISOString()}`;
  return undefined;
}

/** Throwing form of `chainProblem`, for callers that hold material. */
export function assertChainVerifies(
  chain: readonly X509Certificate[],
  bundle: TrustBundle,
  now: Date,
  where: string,
  skewMs = 0,
): void {
  const problem = chainProblem(chain, bundle, now, skewMs);
  if (problem !== undefined) throw certificateError(`${where}: ${problem}`, where, problem);
}
