import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CA_FILES } from '../../../../src/security/certs/ca-store.js';
import { DevCaProvider, defaultDevCaDir } from '../../../../src/security/certs/dev-ca-provider.js';
import { memoryLogger, opensslVerify, tempDir } from './helpers.js';

let base: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ dir: base, cleanup } = await tempDir());
});
afterAll(() => cleanup());

describe('DevCaProvider', () => {
  it('creates a CA on first use with private permissions and issues the workload certificate from it', async () => {
    const dir = join(base, 'fresh', 'dev-ca');
    const logger = memoryLogger();
    const provider = new DevCaProvider({ spiffeId: 'spiffe://dev.local/ns/shop/sa/cart', dir, logger });
    const cert = await provider.ready();
    expect(cert.spiffeId).toBe('spiffe://dev.local/ns/shop/sa/cart');
    expect(cert.notAfter.getTime() - cert.notBefore.getTime()).toBe(24 * 3_600_000 + 60_000);

    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(dir, CA_FILES.key))).mode & 0o777).toBe(0o600);
    const root = await readFile(join(dir, CA_FILES.root), 'utf8');
    expect(cert.trustBundlePems).toEqual([root]);
    expect((await opensslVerify(base, root, cert.certificatePem)).stdout).toContain(': OK');
    expect(logger.lines.map((l) => l.message)).toContain('created a development CA');
    await provider.close();
  });

  it('reuses the CA across runs', async () => {
    const dir = join(base, 'reuse');
    const a = new DevCaProvider({ spiffeId: 'spiffe://dev.local/ns/a/sa/a', dir, logger: memoryLogger() });
    const first = await a.ready();
    await a.close();
    const b = new DevCaProvider({ spiffeId: 'spiffe://dev.local/ns/b/sa/b', dir, logger: memoryLogger() });
    const second = await b.ready();
    expect(second.trustBundlePems).toEqual(first.trustBundlePems);
    expect((await opensslVerify(base, first.trustBundlePems[0]!, second.certificatePem)).stdout).toContain(': OK');
    await b.close();
  });

  it('settles a creation race on one CA', async () => {
    const dir = join(base, 'race');
    const providers = ['x', 'y', 'z'].map(
      (n) => new DevCaProvider({ spiffeId: `spiffe://dev.local/ns/${n}/sa/${n}`, dir, logger: memoryLogger() }),
    );
    const cas = await Promise.all(providers.map((p) => p.ca()));
    expect(new Set(cas.map((c) => c.certificatePem)).size).toBe(1);
    const disk = await readFile(join(dir, CA_FILES.certificate), 'utf8');
    expect(cas[0]!.certificatePem).toBe(disk);
    await Promise.all(providers.map((p) => p.close()));
  });

  it('refuses a CA directory made for another trust domain', async () => {
    const dir = join(base, 'mismatch');
    const a = new DevCaProvider({ spiffeId: 'spiffe://one.local/ns/a/sa/a', dir, logger: memoryLogger() });
    await a.ca();
    const b = new DevCaProvider({ spiffeId: 'spiffe://two.local/ns/a/sa/a', dir, logger: memoryLogger() });
    await expect(b.ca()).rejects.toThrow(`the CA in ${dir} is for trust domain one.local, not two.local`);
    await Promise.all([a.close(), b.close()]);
  });

  it('defaults to ~/.proxyless/dev-ca', () => {
    expect(defaultDevCaDir()).toMatch(/\.proxyless[\\/]dev-ca$/);
  });
});
