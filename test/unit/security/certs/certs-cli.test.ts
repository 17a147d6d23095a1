import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileCertificateProvider } from '../../../../src/security/certs/file-provider.js';
import { runCertsCommand } from '../../../../src/security/certs-cli.js';
import { memoryLogger, openssl, tempDir } from './helpers.js';

let base: string;
let cleanup: () => Promise<void>;
let caDir: string;

async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCertsCommand(argv, {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
  });
  return { code, stdout, stderr };
}

beforeAll(async () => {
  ({ dir: base, cleanup } = await tempDir());
  caDir = join(base, 'ca');
  const created = await run('create-ca', '--dir', caDir, '--trust-domain', 'cluster.local');
  expect(created.stderr).toBe('');
  expect(created.code).toBe(0);
});
afterAll(() => cleanup());

describe('proxyless certs', () => {
  it('create-ca writes a CA that openssl reads, with a 0600 key', async () => {
    const text = await openssl(['x509', '-noout', '-text', '-in', join(caDir, 'ca-cert.pem')]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/X509v3 Name Constraints: critical\s+Permitted:\s+URI:cluster\.local/);
    expect(text.stdout).toContain('CA:TRUE');
    expect((await stat(join(caDir, 'ca-key.pem'))).mode & 0o777).toBe(0o600);
    const key = await openssl(['pkey', '-noout', '-in', join(caDir, 'ca-key.pem')]);
    expect(key.code).toBe(0);
  });

  it('create-ca refuses to overwrite unless forced', async () => {
    const again = await run('create-ca', '--dir', caDir, '--trust-domain', 'cluster.local');
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already holds a CA');
    const dir = join(base, 'forced');
    expect((await run('create-ca', '--dir', dir, '--trust-domain', 'a.b')).code).toBe(0);
    const before = await readFile(join(dir, 'ca-cert.pem'), 'utf8');
    expect((await run('create-ca', '--dir', dir, '--trust-domain', 'a.b', '--force')).code).toBe(0);
    expect(await readFile(join(dir, 'ca-cert.pem'), 'utf8')).not.toBe(before);
  });

  it('issue writes the Istio layout, which openssl reads and verifies', async () => {
    const out = join(base, 'istio');
    const r = await run('issue', '--ca-dir', caDir, '--spiffe-id', 'spiffe://cluster.local/ns/shop/sa/cart', '--out', out);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('issued spiffe://cluster.local/ns/shop/sa/cart');
    const text = await openssl(['x509', '-noout', '-text', '-in', join(out, 'cert-chain.pem')]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('URI:spiffe://cluster.local/ns/shop/sa/cart');
    const verify = await openssl(['verify', '-x509_strict', '-CAfile', join(out, 'root-cert.pem'), join(out, 'cert-chain.pem')]);
    expect(verify.stdout).toContain(': OK');
    expect((await stat(join(out, 'key.pem'))).mode & 0o777).toBe(0o600);
  });

  it('issue takes namespace/service account, a TTL and another layout; the file provider loads the result', async () => {
    const out = join(base, 'spire');
    const r = await run('issue', '--ca-dir', caDir, '--namespace', 'shop', '--service-account', 'cart', '--ttl', '2h', '--layout', 'spire', '--out', out);
    expect(r.code).toBe(0);
    const dates = await openssl(['x509', '-noout', '-startdate', '-enddate', '-in', join(out, 'svid.pem')]);
    const [start, end] = dates.stdout.trim().split('\n').map((l) => Date.parse(l.split('=')[1]!));
    expect(end! - start!).toBe(2 * 3_600_000 + 60_000);
    const provider = new FileCertificateProvider({ dir: out, pollIntervalMs: 0, logger: memoryLogger() });
    expect((await provider.ready()).spiffeId).toBe('spiffe://cluster.local/ns/shop/sa/cart');
    await provider.close();
  });

  it('issue writes named files when asked', async () => {
    const out = join(base, 'named');
    const r = await run('issue', '--ca-dir', caDir, '--namespace', 'a', '--out', out, '--cert', 'svc.crt', '--key', 'svc.key', '--bundle', 'roots.pem');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('wrote svc.crt, svc.key (0600), roots.pem');
    const provider = new FileCertificateProvider({
      dir: out,
      layout: { certificate: 'svc.crt', key: 'svc.key', bundle: 'roots.pem' },
      pollIntervalMs: 0,
      logger: memoryLogger(),
    });
    expect((await provider.ready()).spiffeId).toBe('spiffe://cluster.local/ns/a/sa/default');
    await provider.close();
  });

  it('issue refuses an ID outside the CA trust domain', async () => {
    const r = await run('issue', '--ca-dir', caDir, '--spiffe-id', 'spiffe://evil/ns/a/sa/b', '--out', join(base, 'evil'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('outside trust domain cluster.local [MESH_CERTIFICATE_INVALID]');
  });

  it('inspect prints subject, SPIFFE ID, issuer, validity, serial, key type and CA flag', async () => {
    const out = join(base, 'inspect');
    await run('issue', '--ca-dir', caDir, '--spiffe-id', 'spiffe://cluster.local/ns/x/sa/y', '--out', out, '--layout', 'cert-manager');
    const leaf = await run('inspect', join(out, 'tls.crt'));
    expect(leaf.code).toBe(0);
    expect(leaf.stdout).toMatch(/Subject: +\(empty\)/);
    expect(leaf.stdout).toMatch(/SPIFFE ID: +spiffe:\/\/cluster\.local\/ns\/x\/sa\/y/);
    expect(leaf.stdout).toMatch(/Issuer: +O=cluster\.local, CN=proxyless root CA/);
    expect(leaf.stdout).toMatch(/Not before: +\d{4}-\d\d-\d\dT/);
    expect(leaf.stdout).toMatch(/Not after: +\S+ \(expires in (23h59m|24h0m)\)/);
    expect(leaf.stdout).toMatch(/Serial: +[0-9A-F]{30,}/);
    expect(leaf.stdout).toMatch(/Key: +RSA 2048/);
    expect(leaf.stdout).toMatch(/CA: +no/);

    const ca = await run('inspect', join(caDir, 'cert-chain.pem'));
    expect(ca.stdout).toMatch(/CA: +yes \(self-signed root\)/);
    expect(ca.stdout).toMatch(/Permits: +URI:cluster\.local/);
    expect(ca.stdout).toMatch(/SPIFFE ID: +spiffe:\/\/cluster\.local\n/);
  });

  it('reports usage errors with exit code 2', async () => {
    const cases: Array<[string[], RegExp]> = [
      [[], /usage:/],
      [['frobnicate'], /unknown certs command "frobnicate"/],
      [['create-ca', '--trust-domain', 'x'], /missing --dir/],
      [['create-ca', '--dir', 'd', '--trust-domain', 'x', '--bogus'], /Unknown option '--bogus'/],
      [['create-ca', '--dir', 'd', '--trust-domain', 'x', '--ttl', '24'], /--ttl must be a duration such as 24h/],
      [['issue', '--ca-dir', caDir, '--out', 'o'], /missing --spiffe-id/],
      [['issue', '--ca-dir', caDir, '--out', 'o', '--spiffe-id', 'spiffe://a/b', '--namespace', 'n'], /either --spiffe-id or --namespace/],
      [['issue', '--ca-dir', caDir, '--out', 'o', '--spiffe-id', 'spiffe://a/b', '--layout', 'nginx'], /--layout must be one of spire, cert-manager, istio; got "nginx"/],
      [['inspect'], /inspect takes exactly one FILE/],
      [['issue', '--ca-dir', caDir, '--out', 'o', '--namespace', 'n', '--key', '../k.pem'], /--key must be a file name inside --out/],
      [['issue', '--ca-dir', caDir, '--out', 'o', '--namespace', 'n', '--key', 'x', '--cert', 'x'], /three different files/],
    ];
    for (const [argv, message] of cases) {
      const r = await run(...argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stdout + r.stderr, argv.join(' ')).toMatch(message);
    }
  });

  it('fails cleanly on unreadable input', async () => {
    const notCert = join(base, 'notes.txt');
    await writeFile(notCert, 'hello');
    const r = await run('inspect', notCert);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('is not valid PEM: no PEM block found');
    const missing = await run('issue', '--ca-dir', join(base, 'nope'), '--spiffe-id', 'spiffe://a/b/c', '--out', join(base, 'o'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot read .*ca-cert\.pem: ENOENT/);
  });
});
