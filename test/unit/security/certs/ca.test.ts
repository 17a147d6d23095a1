import { X509Certificate } from 'node:crypto';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isMeshError } from '../../../../src/errors.js';
import { CertificateAuthority } from '../../../../src/security/certs/ca.js';
import { inspectCertificate } from '../../../../src/security/certs/certificate-info.js';
import { forgeLeaf, openssl, opensslVerify, tempDir, writeFiles } from './helpers.js';

const TD = 'cluster.local';
const ID = 'spiffe://cluster.local/ns/default/sa/reviews';

let dir: string;
let cleanup: () => Promise<void>;
let root: CertificateAuthority;
let intermediate: CertificateAuthority;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  root = await CertificateAuthority.createRoot({ trustDomain: TD });
  intermediate = await root.createIntermediate();
});
afterAll(() => cleanup());

describe('CertificateAuthority', () => {
  it('issues leaves from a root that openssl verifies strictly', async () => {
    const leaf = await root.issue({ spiffeId: ID });
    const result = await opensslVerify(dir, root.certificatePem, leaf.certificatePem);
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain(': OK');
    expect(leaf.chainPem).toBe(leaf.certificatePem);
    expect(leaf.trustBundlePems).toEqual([root.certificatePem]);
  });

  it('issues leaves from an intermediate that openssl verifies strictly', async () => {
    const leaf = await intermediate.issue({ spiffeId: ID });
    expect(leaf.chainPem).toBe(leaf.certificatePem + intermediate.certificatePem);
    const result = await opensslVerify(dir, root.certificatePem, leaf.certificatePem, intermediate.certificatePem);
    expect(result.stdout).toContain(': OK');
    // Without the intermediate the chain is incomplete.
    const missing = await opensslVerify(dir, root.certificatePem, leaf.certificatePem);
    expect(missing.code).not.toBe(0);
  });

  it('writes the SVID profile: empty subject, critical URI SAN, CA:false, usages, key ids, 128-bit serial', async () => {
    const leaf = await intermediate.issue({ spiffeId: ID, ttlMs: 3_600_000 });
    await writeFiles(dir, { 'profile.pem': leaf.certificatePem });
    const { stdout } = await openssl(['x509', '-noout', '-text', '-in', `${dir}/profile.pem`]);
    expect(stdout).toMatch(/Subject: *\n/);
    expect(stdout).toMatch(/X509v3 Subject Alternative Name: critical\s+URI:spiffe:\/\/cluster\.local\/ns\/default\/sa\/reviews\n/);
    expect(stdout).toMatch(/X509v3 Basic Constraints: critical\s+CA:FALSE/);
    expect(stdout).toMatch(/X509v3 Key Usage: critical\s+Digital Signature, Key Encipherment\n/);
    expect(stdout).toMatch(/X509v3 Extended Key Usage: *\s+TLS Web Server Authentication, TLS Web Client Authentication/);
    expect(stdout).toContain('X509v3 Subject Key Identifier');
    expect(stdout).toContain('X509v3 Authority Key Identifier');
    expect(stdout).toContain('sha256WithRSAEncryption');
    expect(stdout).toContain('Public-Key: (2048 bit)');
    const x509 = new X509Certificate(leaf.certificatePem);
    expect(x509.serialNumber.replace(/^0+/, '').length).toBeGreaterThanOrEqual(30);
    expect(x509.validToDate.getTime() - x509.validFromDate.getTime()).toBe(3_600_000 + 60_000);
    expect(leaf.spiffeId).toBe(ID);
    expect(leaf.trustDomain).toBe(TD);
  });

  it('puts a critical URI name constraint for its trust domain on CA certificates', async () => {
    for (const ca of [root, intermediate]) {
      const info = inspectCertificate(ca.certificatePem);
      expect(info.isCa).toBe(true);
      expect(info.nameConstraints).toEqual({ permittedUris: [TD], excludedUris: [], otherForms: [] });
      await writeFiles(dir, { 'ca.pem': ca.certificatePem });
      const { stdout } = await openssl(['x509', '-noout', '-text', '-in', `${dir}/ca.pem`]);
      expect(stdout).toMatch(/X509v3 Name Constraints: critical\s+Permitted:\s+URI:cluster\.local\n/);
      expect(stdout).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE/);
      expect(stdout).toMatch(/X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign/);
    }
    expect(inspectCertificate(intermediate.certificatePem).selfSigned).toBe(false);
    expect(inspectCertificate(root.certificatePem).selfSigned).toBe(true);
  });

  it('refuses to issue outside its trust domain', async () => {
    const err = await root.issue({ spiffeId: 'spiffe://evil.example/ns/default/sa/x' }).catch((e) => e);
    expect(isMeshError(err)).toBe(true);
    expect(err.code).toBe('MESH_CERTIFICATE_INVALID');
    expect(err.message).toBe('refusing to issue for spiffe://evil.example/ns/default/sa/x: it is outside trust domain cluster.local');
    await expect(intermediate.issue({ spiffeId: 'spiffe://cluster.local' })).rejects.toThrow(/needs a path/);
    await expect(root.issue({ spiffeId: 'spiffe://cluster.local/a//b' })).rejects.toMatchObject({ code: 'MESH_INVALID_ARGUMENT' });
  });

  it('name constraints make openssl refuse a leaf from another trust domain signed by the CA key', async () => {
    // In-domain control: the same crafting path verifies, so the refusal below is the constraint's doing.
    const inside = await forgeLeaf(root, { spiffeId: 'spiffe://cluster.local/ns/a/sa/b' });
    expect((await opensslVerify(dir, root.certificatePem, inside.certificatePem)).stdout).toContain(': OK');

    const outside = await forgeLeaf(root, { spiffeId: 'spiffe://evil.example/ns/a/sa/b' });
    const direct = await opensslVerify(dir, root.certificatePem, outside.certificatePem);
    expect(direct.code).not.toBe(0);
    expect(direct.stderr + direct.stdout).toMatch(/permitted subtree violation/);

    const viaIntermediate = await forgeLeaf(intermediate, { spiffeId: 'spiffe://cluster.local.evil/ns/a/sa/b' });
    const chained = await opensslVerify(dir, root.certificatePem, viaIntermediate.certificatePem, intermediate.certificatePem);
    expect(chained.stderr + chained.stdout).toMatch(/permitted subtree violation/);
  });

  it('never lets a leaf outlive its CA', async () => {
    const shortRoot = await CertificateAuthority.createRoot({ trustDomain: TD, ttlMs: 3_600_000 });
    const leaf = await shortRoot.issue({ spiffeId: ID, ttlMs: 48 * 3_600_000 });
    expect(leaf.notAfter.getTime()).toBe(shortRoot.notAfter.getTime());
  });

  it('round-trips through exportPem/fromPem and reads its trust domain from the name constraint', async () => {
    const copy = CertificateAuthority.fromPem(intermediate.exportPem());
    expect(copy.trustDomain).toBe(TD);
    const leaf = await copy.issue({ spiffeId: ID });
    expect((await opensslVerify(dir, root.certificatePem, leaf.certificatePem, intermediate.certificatePem)).stdout).toContain(': OK');
    expect(() => CertificateAuthority.fromPem(intermediate.exportPem(), { trustDomain: 'other.td' })).toThrow(
      /for trust domain cluster\.local, not other\.td/,
    );
  });

  it('refuses CA material whose key does not match, without echoing the key', async () => {
    const other = await CertificateAuthority.createRoot({ trustDomain: TD });
    const material = { ...root.exportPem(), keyPem: other.exportPem().keyPem };
    try {
      CertificateAuthority.fromPem(material);
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).toBe('CA material: the CA key does not match the CA certificate');
      expect(JSON.stringify(err)).not.toContain('PRIVATE KEY');
    }
    // The CA itself keeps its key out of inspection and JSON.
    expect(inspect(root, { depth: 10 })).not.toContain('PRIVATE KEY');
    expect(JSON.stringify(root)).not.toContain('PRIVATE KEY');
  });
});
