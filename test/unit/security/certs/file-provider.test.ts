import { mkdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { CertificateAuthority } from '../../../../src/security/certs/ca.js';
import { FileCertificateProvider } from '../../../../src/security/certs/file-provider.js';
import { CERTIFICATE_LAYOUTS, type CertificateFileNames } from '../../../../src/security/certs/layouts.js';
import type { WorkloadCertificate } from '../../../../src/security/certs/workload-certificate.js';
import { forgeLeaf, memoryLogger, tempDir } from './helpers.js';

const ID = 'spiffe://cluster.local/ns/shop/sa/cart';
let root: CertificateAuthority;
let intermediate: CertificateAuthority;
let first: WorkloadCertificate;
let second: WorkloadCertificate;
let base: string;
let cleanup: () => Promise<void>;
const providers: FileCertificateProvider[] = [];

beforeAll(async () => {
  ({ dir: base, cleanup } = await tempDir());
  root = await CertificateAuthority.createRoot({ trustDomain: 'cluster.local' });
  intermediate = await root.createIntermediate();
  [first, second] = await Promise.all([intermediate.issue({ spiffeId: ID }), intermediate.issue({ spiffeId: ID })]);
});
afterEach(async () => {
  await Promise.all(providers.splice(0).map((p) => p.close()));
});
afterAll(() => cleanup());

interface Files {
  readonly certificate: string;
  readonly key: string;
  readonly bundle: string;
}

const filesOf = (c: WorkloadCertificate): Files => ({ certificate: c.chainPem, key: c.keyPem, bundle: c.trustBundlePems.join('') });

let dirCount = 0;
async function freshDir(): Promise<string> {
  const dir = join(base, `d${++dirCount}`);
  await mkdir(dir);
  return dir;
}

async function writePlain(dir: string, names: CertificateFileNames, files: Files): Promise<void> {
  await writeFile(join(dir, names.certificate), files.certificate);
  await writeFile(join(dir, names.key), files.key, { mode: 0o600 });
  await writeFile(join(dir, names.bundle), files.bundle);
}

/** What the kubelet's atomic writer does for a secret volume: new timestamped dir, swap `..data`, drop the old dir. */
let generation = 0;
async function kubeletWrite(dir: string, names: CertificateFileNames, files: Files): Promise<void> {
  const stamp = `..2024_01_01_00_00_${String(++generation).padStart(2, '0')}.${generation}`;
  await mkdir(join(dir, stamp));
  await writePlain(join(dir, stamp), names, files);
  await symlink(stamp, join(dir, '..data_tmp'));
  const previous = await import('node:fs/promises').then((fs) => fs.readlink(join(dir, '..data')).catch(() => undefined));
  await rename(join(dir, '..data_tmp'), join(dir, '..data'));
  for (const name of Object.values(names)) {
    await symlink(join('..data', name), join(dir, name)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
  }
  if (previous !== undefined) await rm(join(dir, previous), { recursive: true });
}

function open(dir: string, options: Partial<ConstructorParameters<typeof FileCertificateProvider>[0]> = {}) {
  const logger = memoryLogger();
  const provider = new FileCertificateProvider({ dir, pollIntervalMs: 0, debounceMs: 10, logger, ...options });
  providers.push(provider);
  return { provider, logger };
}

function nextUpdate(provider: FileCertificateProvider): Promise<WorkloadCertificate> {
  return new Promise((resolve) => {
    const off = provider.subscribe((c) => {
      off();
      resolve(c);
    });
  });
}

const rejections = (logger: ReturnType<typeof memoryLogger>) =>
  logger.lines.filter((l) => l.level === 'error').map((l) => String(l.fields?.error));

describe('FileCertificateProvider', () => {
  it.each(Object.entries(CERTIFICATE_LAYOUTS))('reads the %s layout', async (name, names) => {
    const dir = await freshDir();
    await writePlain(dir, names, filesOf(first));
    for (const layout of ['auto', name] as const) {
      const { provider } = open(dir, { layout: layout as never, trustDomain: 'cluster.local' });
      const cert = await provider.ready();
      expect(cert.spiffeId).toBe(ID);
      expect(cert.serialNumber).toBe(first.serialNumber);
      expect(cert.chainPem).toBe(first.chainPem);
      expect(cert.keyPem).toBe(first.keyPem);
      expect(provider.current()).toBe(cert);
    }
  });

  it('reads explicitly named files', async () => {
    const dir = await freshDir();
    const names = { certificate: 'my.crt', key: 'my.key', bundle: 'roots.pem' };
    await writePlain(dir, names, filesOf(first));
    const { provider } = open(dir, { layout: names });
    expect((await provider.ready()).serialNumber).toBe(first.serialNumber);
  });

  it('delivers new material when the ..data symlink is swapped', async () => {
    const dir = await freshDir();
    const names = CERTIFICATE_LAYOUTS['cert-manager'];
    await kubeletWrite(dir, names, filesOf(first));
    const { provider, logger } = open(dir);
    expect((await provider.ready()).serialNumber).toBe(first.serialNumber);

    const update = nextUpdate(provider);
    await kubeletWrite(dir, names, filesOf(second));
    const delivered = await update;
    expect(delivered.serialNumber).toBe(second.serialNumber);
    expect(provider.current()).toBe(delivered);
    expect(rejections(logger)).toEqual([]);
  });

  it('rejects bad updates, logs each once, and keeps serving the previous material', async () => {
    const dir = await freshDir();
    const names = CERTIFICATE_LAYOUTS.istio;
    await kubeletWrite(dir, names, filesOf(first));
    const { provider, logger } = open(dir);
    const served = await provider.ready();
    let notified = 0;
    provider.subscribe(() => notified++);

    const expired = await forgeLeaf(root, {
      spiffeId: ID,
      notBefore: new Date(Date.now() - 7_200_000),
      notAfter: new Date(Date.now() - 3_600_000),
    });
    const bad: Array<[string, Files, RegExp]> = [
      ['malformed PEM', { ...filesOf(first), certificate: first.chainPem.slice(0, 400) }, /certificate chain is not valid PEM: a PEM block is incomplete/],
      ['mismatched key', { ...filesOf(first), key: second.keyPem }, /the private key does not match the leaf certificate/],
      ['expired', { certificate: expired.certificatePem, key: expired.keyPem, bundle: root.certificatePem }, /the leaf expired at/],
      ['truncated chain', { ...filesOf(second), certificate: second.certificatePem }, /not issued by any trust bundle certificate/],
    ];
    for (const [what, files, reason] of bad) {
      const before = rejections(logger).length;
      await kubeletWrite(dir, names, files);
      await provider.reload();
      await provider.reload();
      const logged = rejections(logger).slice(before);
      expect(logged, what).toHaveLength(1);
      expect(logged[0], what).toMatch(reason);
      expect(logged[0]).not.toContain('PRIVATE KEY');
      expect(provider.current(), what).toBe(served);
    }
    expect(notified).toBe(0);

    const update = nextUpdate(provider);
    await kubeletWrite(dir, names, filesOf(second));
    await provider.reload();
    expect((await update).serialNumber).toBe(second.serialNumber);
  });

  it('delivers a trust bundle change on its own', async () => {
    const dir = await freshDir();
    const names = CERTIFICATE_LAYOUTS.spire;
    await kubeletWrite(dir, names, filesOf(first));
    const { provider } = open(dir);
    await provider.ready();
    const extraRoot = await CertificateAuthority.createRoot({ trustDomain: 'cluster.local' });
    const update = nextUpdate(provider);
    await kubeletWrite(dir, names, { ...filesOf(first), bundle: first.trustBundlePems.join('') + extraRoot.certificatePem });
    const delivered = await update;
    expect(delivered.serialNumber).toBe(first.serialNumber);
    expect(delivered.trustBundlePems).toEqual([...first.trustBundlePems, extraRoot.certificatePem]);
  });

  it('rejects material from another trust domain', async () => {
    const other = await CertificateAuthority.createRoot({ trustDomain: 'other.td' });
    const cert = await other.issue({ spiffeId: 'spiffe://other.td/ns/a/sa/b' });
    const dir = await freshDir();
    await writePlain(dir, CERTIFICATE_LAYOUTS.istio, filesOf(cert));
    const { provider, logger } = open(dir, { trustDomain: 'cluster.local' });
    provider.start();
    await provider.reload();
    expect(provider.current()).toBeUndefined();
    expect(rejections(logger)[0]).toMatch(/outside trust domain cluster\.local/);
  });

  it('waits for files that are not there yet, and rejects ready() on close', async () => {
    const dir = await freshDir();
    const { provider, logger } = open(dir);
    const ready = provider.ready();
    await provider.reload();
    expect(rejections(logger)[0]).toMatch(/no certificate files in .* \(looked for svid\.pem, tls\.crt, cert-chain\.pem\)/);
    await writePlain(dir, CERTIFICATE_LAYOUTS.spire, filesOf(first));
    await provider.reload();
    expect((await ready).serialNumber).toBe(first.serialNumber);

    const { provider: empty } = open(await freshDir());
    const pending = expect(empty.ready()).rejects.toMatchObject({ code: 'MESH_CLOSED' });
    await empty.close();
    await pending;
  });

  it('says so, once, when the served certificate expires with no replacement', async () => {
    const dir = await freshDir();
    await writePlain(dir, CERTIFICATE_LAYOUTS.istio, filesOf(first));
    const { provider, logger } = open(dir);
    await provider.ready();
    vi.useFakeTimers({ toFake: ['Date'], now: first.notAfter.getTime() + 1 });
    try {
      await provider.reload();
      await provider.reload();
    } finally {
      vi.useRealTimers();
    }
    const expired = logger.lines.filter((l) => l.message === 'the served workload certificate has expired');
    expect(expired).toHaveLength(1);
    expect(provider.current()?.serialNumber).toBe(first.serialNumber);
  });

  it('never calls a listener after close', async () => {
    const dir = await freshDir();
    await kubeletWrite(dir, CERTIFICATE_LAYOUTS.istio, filesOf(first));
    const { provider } = open(dir);
    await provider.ready();
    let calls = 0;
    provider.subscribe(() => calls++);
    await provider.close();
    await kubeletWrite(dir, CERTIFICATE_LAYOUTS.istio, filesOf(second));
    await provider.reload();
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toBe(0);
    expect(provider.current()?.serialNumber).toBe(first.serialNumber);
  });
});
