/**
 * Reading a peer's identity from its certificate, the same way on both
 * sides: the client checks the server's, the server reads the client's.
 */

/**
 * The single spiffe:// URI SAN of a certificate, from Node's
 * `X509Certificate.subjectAltName` text. An SVID carries exactly one; a
 * certificate with two is ambiguous, so it gets no identity rather than the
 * first.
 */
export function spiffeIdOf(subjectAltName: string | undefined): string | undefined {
  if (subjectAltName === undefined) return undefined;
  let found: string | undefined;
  for (const entry of subjectAltName.split(', ')) {
    if (!entry.startsWith('URI:spiffe://')) continue;
    if (found !== undefined) return undefined;
    found = entry.slice('URI:'.length);
  }
  return found;
}
