/**
 * A CA persisted to a directory, in the file layout istiod reads for a
 * plugged-in CA (its `cacerts` secret), so a CA made here can serve there:
 *
 *   ca-cert.pem     this CA's certificate
 *   ca-key.pem      its private key (mode 0600; the directory is 0700)
 *   cert-chain.pem  ca-cert, then any intermediates, then the root
 *   root-cert.pem   the root(s) peers trust
 *
 * Creation may race (two local services starting at once against one dev CA
 * directory). `ca-cert.pem` is created exclusively and is the claim: the
 * process that creates it writes the rest, the key last and by rename, and
 * every other process waits for the key to appear and loads what the winner
 * wrote.
 */
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MeshError } from '../../errors.js';
import type { MeshLogger } from '../../telemetry/logger.js';
import { writeFileAtomic } from './atomic-write.js';
import { CertificateAuthority, type CreateRootOptions } from './ca.js';
import { parseCertificates } from './pem.js';

export const CA_FILES = {
  certificate: 'ca-cert.pem',
  key: 'ca-key.pem',
  chain: 'cert-chain.pem',
  root: 'root-cert.pem',
} as const;

const WAIT_FOR_PEER_MS = 10_000;
const POLL_MS = 50;

export interface WriteCaOptions {
  /** Replace an existing CA in the directory. Default false: refuse. */
  readonly overwrite?: boolean;
}

/** Write `ca` to `dir`. Throws `MESH_INVALID_ARGUMENT` when a CA is already there and `overwrite` is off. */
export async function writeCaDirectory(ca: CertificateAuthority, dir: string, options: WriteCaOptions = {}): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const material = ca.exportPem();
  const chain = [material.certificatePem, ...material.parentChainPems, ...material.trustBundlePems].join('');
  const certPath = join(dir, CA_FILES.certificate);
  if (options.overwrite) await writeFileAtomic(certPath, material.certificatePem, 0o644);
  else {
    try {
      await writeFile(certPath, material.certificatePem, { flag: 'wx', mode: 0o644 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new MeshError('MESH_INVALID_ARGUMENT', `${dir} already holds a CA (${CA_FILES.certificate}); refusing to overwrite it`, {
          details: { dir, exists: true },
        });
      }
      throw err;
    }
  }
  await writeFileAtomic(join(dir, CA_FILES.root), material.trustBundlePems.join(''), 0o644);
  await writeFileAtomic(join(dir, CA_FILES.chain), chain, 0o644);
  // Last: its presence tells other processes the directory is complete.
  await writeFileAtomic(join(dir, CA_FILES.key), material.keyPem, 0o600);
}

/** Load the CA in `dir`. Throws `MESH_CERTIFICATE_INVALID` naming the file at fault. */
export async function readCaDirectory(
  dir: string,
  options: { trustDomain?: string; workloadTtlMs?: number } = {},
): Promise<CertificateAuthority> {
  const read = async (name: string) => {
    try {
      return await readFile(join(dir, name), 'utf8');
    } catch (err) {
      throw new MeshError('MESH_CERTIFICATE_INVALID', `cannot read ${join(dir, name)}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, {
        details: { file: join(dir, name) },
      });
    }
  };
  // Read together, but report the first missing file in a fixed order (the
  // certificate, then the key, then the root), not whichever failed first.
  const settled = await Promise.allSettled([read(CA_FILES.certificate), read(CA_FILES.key), read(CA_FILES.root)]);
  const failed = settled.find((r) => r.status === 'rejected');
  if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
  const [certificatePem, keyPem, rootPem] = settled.map((r) => (r as PromiseFulfilledResult<string>).value) as [string, string, string];
  const chainPem = await readFile(join(dir, CA_FILES.chain), 'utf8').catch(() => '');
  const roots = parseCertificates(rootPem, join(dir, CA_FILES.root)).map((c) => c.pem);
  const self = parseCertificates(certificatePem, join(dir, CA_FILES.certificate))[0]!.pem;
  // cert-chain.pem repeats ca-cert and the root; the CA needs only what lies between.
  const between = chainPem.trim() === '' ? [] : parseCertificates(chainPem, join(dir, CA_FILES.chain)).map((c) => c.pem);
  const parents = between.filter((pem) => pem !== self && !roots.includes(pem));
  return CertificateAuthority.fromPem(
    { certificatePem: self, keyPem, parentChainPems: parents, trustBundlePems: roots },
    options,
  );
}

/**
 * The CA in `dir`, created (as a new root) when the directory has none.
 * Reused across runs; when two processes race to create it, both end up
 * with the same CA.
 */
export async function loadOrCreateCaDirectory(
  dir: string,
  options: CreateRootOptions & { logger?: MeshLogger },
): Promise<{ ca: CertificateAuthority; created: boolean }> {
  const keyPath = join(dir, CA_FILES.key);
  if (await exists(keyPath)) return { ca: await loadChecked(dir, options), created: false };

  await mkdir(dir, { recursive: true, mode: 0o700 });
  const ca = await CertificateAuthority.createRoot(options);
  try {
    await writeCaDirectory(ca, dir);
    options.logger?.info('created a development CA', { dir, trustDomain: options.trustDomain });
    return { ca, created: true };
  } catch (err) {
    if (!(err instanceof MeshError) || err.details?.exists !== true) throw err;
  }
  // Another process claimed the directory first: wait for its key, then use its CA.
  const deadline = Date.now() + WAIT_FOR_PEER_MS;
  while (!(await exists(keyPath))) {
    if (Date.now() > deadline) {
      throw new MeshError('MESH_CERTIFICATE_INVALID', `${dir} has ${CA_FILES.certificate} but no ${CA_FILES.key}; remove the directory to start over`, {
        details: { dir },
      });
    }
    await sleep(POLL_MS, undefined, { ref: false });
  }
  return { ca: await loadChecked(dir, options), created: false };
}

async function loadChecked(dir: string, options: CreateRootOptions & { logger?: MeshLogger }): Promise<CertificateAuthority> {
  const ca = await readCaDirectory(dir, { workloadTtlMs: options.workloadTtlMs });
  if (ca.trustDomain !== options.trustDomain) {
    throw new MeshError(
      'MESH_CERTIFICATE_INVALID',
      `the CA in ${dir} is for trust domain ${ca.trustDomain}, not ${options.trustDomain}; use another directory or trust domain`,
      { details: { dir, trustDomain: ca.trustDomain } },
    );
  }
  const mode = (await stat(join(dir, CA_FILES.key))).mode;
  if ((mode & 0o077) !== 0) {
    options.logger?.warn('the CA key is readable by other users; chmod 600 it', { file: join(dir, CA_FILES.key) });
  }
  return ca;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
