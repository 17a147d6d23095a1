/**
 * Certificates mounted the way Kubernetes mounts a Secret: files that are
 * symlinks into `..data`, itself a symlink to a versioned directory, so a
 * rotation swaps every file at once with one rename. `rotate()` issues a
 * fresh leaf from the test CA and swaps it in.
 */
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CertificateAuthority } from '../../src/security/certs/ca.js';

export interface MountedCertificates {
  readonly dir: string;
  /** Serial numbers issued so far, in order. */
  readonly serials: string[];
  rotate(): Promise<void>;
  remove(): void;
}

const FILES = { certificate: 'cert-chain.pem', key: 'key.pem', bundle: 'root-cert.pem' } as const;

export async function mountCertificates(ca: CertificateAuthority, spiffeId: string): Promise<MountedCertificates> {
  const dir = mkdtempSync(join(tmpdir(), 'proxyless-mount-'));
  const serials: string[] = [];
  let version = 0;
  const rotate = async () => {
    const cert = await ca.issue({ spiffeId });
    const versioned = `..v${++version}`;
    mkdirSync(join(dir, versioned));
    writeFileSync(join(dir, versioned, FILES.certificate), cert.chainPem);
    writeFileSync(join(dir, versioned, FILES.key), cert.keyPem, { mode: 0o600 });
    writeFileSync(join(dir, versioned, FILES.bundle), cert.trustBundlePems.join(''));
    symlinkSync(versioned, join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    serials.push(cert.serialNumber);
    if (version === 1) for (const f of Object.values(FILES)) symlinkSync(join('..data', f), join(dir, f));
    else rmSync(join(dir, `..v${version - 1}`), { recursive: true, force: true });
  };
  await rotate();
  return { dir, serials, rotate, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
