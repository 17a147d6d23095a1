/**
 * PEM text: splitting bundles into blocks and rejecting anything half-written.
 * A file caught mid-write often ends inside a block; counting BEGIN lines
 * against complete blocks catches that before a parser sees it.
 */
import { X509Certificate } from 'node:crypto';
import { MeshError } from '../../errors.js';

export interface PemBlock {
  /** The label, e.g. `CERTIFICATE`, `PRIVATE KEY`. */
  readonly label: string;
  /** The block re-emitted in canonical form (64-column base64, trailing newline). */
  readonly pem: string;
  readonly der: Buffer;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([A-Za-z0-9+/=\r\n\t ]*?)-----END \1-----/g;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Every PEM block in `text`, or a reason the text is not well-formed PEM.
 * Text between blocks (OpenSSL's `subject=` comment lines) is allowed.
 */
export function splitPem(text: string): { blocks: PemBlock[] } | { reason: string } {
  const blocks: PemBlock[] = [];
  const begins = text.match(/-----BEGIN /g)?.length ?? 0;
  for (const m of text.matchAll(BLOCK)) {
    const body = m[2]!.replace(/\s+/g, '');
    if (body === '' || !BASE64.test(body) || body.length % 4 !== 0) {
      return { reason: `PEM block ${blocks.length + 1} (${m[1]}) has invalid base64` };
    }
    const der = Buffer.from(body, 'base64');
    blocks.push({ label: m[1]!, pem: toPem(m[1]!, der), der });
  }
  if (begins === 0) return { reason: 'no PEM block found' };
  if (blocks.length !== begins) return { reason: `a PEM block is incomplete (${begins} BEGIN lines, ${blocks.length} complete blocks)` };
  return { blocks };
}

export function toPem(label: string, der: Buffer): string {
  const b64 = der.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

export interface ParsedCertificate {
  readonly pem: string;
  readonly x509: X509Certificate;
}

/**
 * Certificates from PEM text, in order. `what` names the input in errors
 * (`certificate file /etc/certs/tls.crt`). Never used on key material.
 */
export function parseCertificates(text: string, what: string): ParsedCertificate[] {
  const split = splitPem(text);
  if ('reason' in split) throw certificateError(`${what} is not valid PEM: ${split.reason}`, what);
  const out: ParsedCertificate[] = [];
  split.blocks.forEach((block, i) => {
    if (block.label !== 'CERTIFICATE') {
      throw certificateError(`${what}: block ${i + 1} is a ${block.label}, not a CERTIFICATE`, what);
    }
    try {
      out.push({ pem: block.pem, x509: new X509Certificate(block.der) });
    } catch {
      throw certificateError(`${what}: block ${i + 1} is not a parseable X.509 certificate`, what);
    }
  });
  return out;
}

export function certificateError(message: string, where: string, reason?: string): MeshError {
  return new MeshError('MESH_CERTIFICATE_INVALID', message, { details: { where, ...(reason ? { reason } : {}) } });
}
