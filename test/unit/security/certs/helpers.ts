import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import forge from 'node-forge';
import type { CertificateAuthority } from '../../../../src/security/certs/ca.js';
import { generateRsaKeyPair } from '../../../../src/security/certs/key-pair.js';
import type { MeshLogger } from '../../../../src/telemetry/logger.js';

export const OPENSSL = '/usr/bin/openssl';

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function openssl(args: readonly string[], input?: string): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(OPENSSL, [...args], { encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1;
      resolve({ code, stdout, stderr });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

export async function tempDir(prefix = 'proxyless-certs-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export async function writeFiles(dir: string, files: Record<string, string>): Promise<void> {
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
}

/** `openssl verify -x509_strict` of `leaf` against `root`, with optional untrusted intermediates. */
export async function opensslVerify(dir: string, root: string, leaf: string, intermediates?: string): Promise<RunResult> {
  const name = `v-${Math.random().toString(36).slice(2)}`;
  await writeFiles(dir, { [`${name}-root.pem`]: root, [`${name}-leaf.pem`]: leaf });
  const args = ['verify', '-x509_strict', '-CAfile', join(dir, `${name}-root.pem`)];
  if (intermediates !== undefined) {
    await writeFiles(dir, { [`${name}-int.pem`]: intermediates });
    args.push('-untrusted', join(dir, `${name}-int.pem`));
  }
  args.push(join(dir, `${name}-leaf.pem`));
  return openssl(args);
}

export interface Captured {
  readonly level: 'info' | 'warn' | 'error';
  readonly message: string;
  readonly fields: Record<string, unknown> | undefined;
}

export function memoryLogger(): MeshLogger & { lines: Captured[] } {
  const lines: Captured[] = [];
  return {
    lines,
    info: (message, fields) => lines.push({ level: 'info', message, fields }),
    warn: (message, fields) => lines.push({ level: 'warn', message, fields }),
    error: (message, fields) => lines.push({ level: 'error', message, fields }),
  };
}

/**
 * A leaf signed with forge's own signer and the CA's exported key, bypassing
 * every check the CA makes: how a misbehaving or compromised issuer would
 * mint one.
 */
export async function forgeLeaf(
  ca: CertificateAuthority,
  options: { spiffeId: string; notBefore?: Date; notAfter?: Date },
): Promise<{ certificatePem: string; keyPem: string }> {
  const keys = await generateRsaKeyPair();
  const caCert = forge.pki.certificateFromPem(ca.certificatePem);
  const caKey = forge.pki.privateKeyFromPem(ca.exportPem().keyPem);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(keys.publicKeyPem);
  cert.serialNumber = '0a1b2c3d';
  cert.validity.notBefore = options.notBefore ?? new Date(Date.now() - 60_000);
  cert.validity.notAfter = options.notAfter ?? new Date(Date.now() + 3_600_000);
  cert.setSubject([]);
  cert.setIssuer(caCert.subject.attributes);
  const ski = (caCert.getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier: string }).subjectKeyIdentifier;
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: forge.util.hexToBytes(ski) },
    { name: 'subjectAltName', critical: true, altNames: [{ type: 6, value: options.spiffeId }] },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { certificatePem: forge.pki.certificateToPem(cert), keyPem: keys.privateKeyPem };
}
