/**
 * PKCS#10 certificate signing requests carrying a SPIFFE ID, as Istio's agent
 * sends them to istiod: the ID is the request's only URI SAN, in the
 * extensionRequest attribute. `createCsr` is what the control-plane CA client
 * will send; `readCsr` is what the CA checks before signing.
 */
import { createPublicKey } from 'node:crypto';
import { MeshError } from '../../errors.js';
import { checkSpiffeId, parseSpiffeId, quoteForMessage, type SpiffeId } from '../identity/spiffe.js';
import { forge, nativeRsaSigner, sha256 } from './forge-glue.js';
import { generateRsaKeyPair, RSA_KEY_BITS, tryPrivateKey } from './key-pair.js';
import { splitPem } from './pem.js';

export interface CsrRequest {
  readonly spiffeId: SpiffeId;
  /** SubjectPublicKeyInfo PEM of the key to certify. */
  readonly publicKeyPem: string;
  /** DNS SANs the request also asked for; the CA does not copy them. */
  readonly dnsNames: readonly string[];
}

const URI = 6;
const DNS = 2;
/** Signature algorithms too weak to accept a proof of possession from. */
const WEAK_SIGNATURES = new Set(['1.2.840.113549.1.1.4', '1.2.840.113549.1.1.5']);

/** A CSR for `spiffeId`, with a new RSA key unless `keyPem` is given. */
export async function createCsr(options: { spiffeId: string; keyPem?: string }): Promise<{ csrPem: string; keyPem: string }> {
  const id = parseSpiffeId(options.spiffeId, 'CSR SPIFFE ID');
  const keyPem = options.keyPem ?? (await generateRsaKeyPair()).privateKeyPem;
  const key = tryPrivateKey(keyPem);
  if (key === undefined) throw new MeshError('MESH_INVALID_ARGUMENT', 'the CSR key is not a PEM private key');
  const publicKeyPem = createPublicKey(key).export({ type: 'spki', format: 'pem' }) as string;
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = publicKeyOrThrow(publicKeyPem);
  csr.setSubject([]);
  csr.setAttributes([
    {
      name: 'extensionRequest',
      extensions: [{ name: 'subjectAltName', critical: true, altNames: [{ type: URI, value: id.uri }] }],
    },
  ]);
  csr.sign(nativeRsaSigner(key), sha256());
  return { csrPem: forge.pki.certificationRequestToPem(csr).replace(/\r\n/g, '\n'), keyPem };
}

/**
 * Parse and check a CSR received from a workload: well-formed, a valid
 * self-signature (proof that the sender holds the key), an RSA key of at
 * least 2048 bits, and exactly one URI SAN that is a valid SPIFFE ID with a
 * path. Throws `MESH_CERTIFICATE_INVALID` naming the problem.
 */
export function readCsr(pem: string): CsrRequest {
  const fail = (reason: string) =>
    new MeshError('MESH_CERTIFICATE_INVALID', `certificate signing request rejected: ${reason}`, {
      details: { where: 'CSR', reason },
    });
  const split = splitPem(pem);
  if ('reason' in split) throw fail(`not valid PEM (${split.reason})`);
  if (split.blocks.length !== 1 || !/^(NEW )?CERTIFICATE REQUEST$/.test(split.blocks[0]!.label)) {
    throw fail('expected exactly one CERTIFICATE REQUEST block');
  }

  let csr: forge.pki.CertificateSigningRequest;
  try {
    csr = forge.pki.certificationRequestFromPem(split.blocks[0]!.pem, true);
  } catch {
    throw fail('the request does not parse (only RSA keys are supported)');
  }
  if (WEAK_SIGNATURES.has(csr.siginfo.algorithmOid ?? '')) throw fail('the request is signed with MD5 or SHA-1');
  let signed = false;
  try {
    signed = csr.verify();
  } catch {
    signed = false;
  }
  if (!signed) throw fail('the request signature does not verify against its public key');

  const publicKeyPem = forge.pki.publicKeyToPem(csr.publicKey!).replace(/\r\n/g, '\n');
  const bits = createPublicKey(publicKeyPem).asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < RSA_KEY_BITS) throw fail(`the RSA key has ${bits} bits; at least ${RSA_KEY_BITS} are required`);

  const ext = csr.getAttribute({ name: 'extensionRequest' })?.extensions as
    | Array<{ name?: string; altNames?: Array<{ type: number; value: string }> }>
    | undefined;
  const altNames = ext?.find((e) => e.name === 'subjectAltName')?.altNames ?? [];
  const uris = altNames.filter((n) => n.type === URI).map((n) => n.value);
  if (uris.length !== 1) throw fail(`the request must name exactly one URI SAN (a SPIFFE ID); it names ${uris.length}`);
  const checked = checkSpiffeId(uris[0]!);
  if (!checked.ok) throw fail(`URI SAN ${quoteForMessage(uris[0])} is not a valid SPIFFE ID: ${checked.reason}`);
  if (checked.id.path === '') throw fail(`${checked.id.uri} is a trust-domain ID; a workload ID needs a path`);
  return {
    spiffeId: checked.id,
    publicKeyPem,
    dnsNames: altNames.filter((n) => n.type === DNS).map((n) => n.value),
  };
}

function publicKeyOrThrow(pem: string): forge.pki.rsa.PublicKey {
  try {
    return forge.pki.publicKeyFromPem(pem);
  } catch {
    throw new MeshError('MESH_INVALID_ARGUMENT', 'the CSR key must be an RSA key');
  }
}

