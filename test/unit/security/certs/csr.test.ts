import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import forge from 'node-forge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateAuthority } from '../../../../src/security/certs/ca.js';
import { createCsr, readCsr } from '../../../../src/security/certs/csr.js';
import { buildWorkloadCertificate } from '../../../../src/security/certs/workload-certificate.js';
import { openssl, opensslVerify, tempDir, writeFiles } from './helpers.js';

const ID = 'spiffe://cluster.local/ns/shop/sa/cart';
let dir: string;
let cleanup: () => Promise<void>;
let root: CertificateAuthority;
let intermediate: CertificateAuthority;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  root = await CertificateAuthority.createRoot({ trustDomain: 'cluster.local', workloadTtlMs: 2 * 3_600_000 });
  intermediate = await root.createIntermediate();
});
afterAll(() => cleanup());

/** Flip one bit in the CSR's signature (the last octets of the DER) and re-armour it. */
function corruptSignature(csrPem: string): string {
  const der = Buffer.from(forge.pki.pemToDer(csrPem).getBytes(), 'binary');
  der[der.length - 5]! ^= 0x01;
  return `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE REQUEST-----\n`;
}

describe('CSR signing', () => {
  it('round-trips: createCsr, openssl agrees it is signed, the CA signs it with its own TTL, openssl verifies the leaf', async () => {
    const { csrPem, keyPem } = await createCsr({ spiffeId: ID });
    await writeFiles(dir, { 'req.pem': csrPem });
    const req = await openssl(['req', '-in', join(dir, 'req.pem'), '-noout', '-verify', '-text']);
    expect(req.stdout + req.stderr).toMatch(/verify OK/i);
    expect(req.stdout).toContain(`URI:${ID}`);

    const issued = await intermediate.signCsr(csrPem);
    expect(issued.spiffeId).toBe(ID);
    expect(issued.notAfter.getTime() - issued.notBefore.getTime()).toBe(2 * 3_600_000 + 60_000);
    const verify = await opensslVerify(dir, root.certificatePem, issued.certificatePem, intermediate.certificatePem);
    expect(verify.stdout).toContain(': OK');
    // The requester's key and the issued chain form valid workload material.
    const material = buildWorkloadCertificate(
      { chainPem: issued.chainPem, keyPem, trustBundlePem: issued.trustBundlePems },
      { where: 'test', trustDomain: 'cluster.local' },
    );
    expect(material.spiffeId).toBe(ID);
  });

  it('accepts a CSR made by openssl, as a third-party agent would send', async () => {
    const keyPath = join(dir, 'ossl.key');
    const made = await openssl([
      'req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-subj', '/', '-addext', `subjectAltName=critical,URI:${ID}`,
    ]);
    expect(made.code).toBe(0);
    const issued = await root.signCsr(made.stdout);
    expect(issued.spiffeId).toBe(ID);
  });

  it('refuses a CSR whose signature does not verify', async () => {
    const { csrPem } = await createCsr({ spiffeId: ID });
    const err = await root.signCsr(corruptSignature(csrPem)).catch((e) => e);
    expect(err.code).toBe('MESH_CERTIFICATE_INVALID');
    expect(err.message).toBe('certificate signing request rejected: the request signature does not verify against its public key');
  });

  it('refuses an ID outside the trust domain, and asks the authorizer', async () => {
    const { csrPem: foreign } = await createCsr({ spiffeId: 'spiffe://other.td/ns/a/sa/b' });
    await expect(root.signCsr(foreign)).rejects.toThrow('refusing to issue for spiffe://other.td/ns/a/sa/b: it is outside trust domain cluster.local');

    const { csrPem } = await createCsr({ spiffeId: ID });
    const seen: string[] = [];
    const denied = await root
      .signCsr(csrPem, {
        authorize: (r) => {
          seen.push(r.spiffeId.uri);
          return false;
        },
      })
      .catch((e) => e);
    expect(seen).toEqual([ID]);
    expect(denied.code).toBe('MESH_PERMISSION_DENIED');
    await expect(root.signCsr(csrPem, { authorize: async () => true })).resolves.toMatchObject({ spiffeId: ID });
  });

  it('refuses malformed requests with a reason', async () => {
    expect(() => readCsr('not pem')).toThrow('not valid PEM (no PEM block found)');
    const { csrPem } = await createCsr({ spiffeId: ID });
    expect(() => readCsr(csrPem.slice(0, 200))).toThrow(/incomplete/);

    const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const ecKey = join(dir, 'ec.key');
    await writeFiles(dir, { 'ec.key': ec.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string });
    const ecCsr = await openssl(['req', '-new', '-key', ecKey, '-subj', '/', '-addext', `subjectAltName=URI:${ID}`]);
    expect(() => readCsr(ecCsr.stdout)).toThrow(/only RSA keys are supported/);

    const two = await openssl([
      'req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'two.key'), '-subj', '/',
      '-addext', `subjectAltName=URI:${ID},URI:spiffe://cluster.local/ns/x/sa/y`,
    ]);
    expect(() => readCsr(two.stdout)).toThrow(/exactly one URI SAN .* it names 2/);

    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const { csrPem: weak } = await createCsr({ spiffeId: ID, keyPem: small });
    expect(() => readCsr(weak)).toThrow(/1024 bits; at least 2048/);
  });
});
