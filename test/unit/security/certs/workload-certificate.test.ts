import { inspect } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { CertificateAuthority } from '../../../../src/security/certs/ca.js';
import { decodeNameConstraints, encodeUriNameConstraints } from '../../../../src/security/certs/name-constraints.js';
import { splitPem } from '../../../../src/security/certs/pem.js';
import {
  buildWorkloadCertificate,
  sameMaterial,
  type WorkloadCertificate,
  type WorkloadMaterial,
} from '../../../../src/security/certs/workload-certificate.js';
import { forgeLeaf } from './helpers.js';

const ID = 'spiffe://cluster.local/ns/shop/sa/cart';
let root: CertificateAuthority;
let intermediate: CertificateAuthority;
let good: WorkloadCertificate;
let material: WorkloadMaterial;

beforeAll(async () => {
  root = await CertificateAuthority.createRoot({ trustDomain: 'cluster.local' });
  intermediate = await root.createIntermediate();
  good = await intermediate.issue({ spiffeId: ID });
  material = { chainPem: good.chainPem, keyPem: good.keyPem, trustBundlePem: good.trustBundlePems };
});

function rejection(m: Partial<WorkloadMaterial>, options: { trustDomain?: string; now?: Date } = {}): string {
  try {
    buildWorkloadCertificate({ ...material, ...m }, { where: 'test material', ...options });
  } catch (err) {
    expect((err as { code?: string }).code).toBe('MESH_CERTIFICATE_INVALID');
    const message = (err as Error).message;
    const keyLine = (m.keyPem ?? material.keyPem).split('\n')[1] ?? 'BEGIN PRIVATE KEY';
    for (const text of [message, JSON.stringify((err as { details?: unknown }).details), inspect(err)]) {
      expect(text).not.toContain('BEGIN PRIVATE KEY');
      expect(text).not.toContain(keyLine);
    }
    return message;
  }
  throw new Error('expected a rejection');
}

describe('buildWorkloadCertificate', () => {
  it('accepts good material and exposes its identity and validity', () => {
    const cert = buildWorkloadCertificate(material, { where: 'test', trustDomain: 'cluster.local' });
    expect(cert.spiffeId).toBe(ID);
    expect(cert.trustDomain).toBe('cluster.local');
    expect(cert.notAfter).toEqual(good.notAfter);
    expect(sameMaterial(cert, good)).toBe(true);
    expect(Object.isFrozen(cert)).toBe(true);
  });

  it('keeps the private key out of logs, JSON and inspection', () => {
    expect(good.keyPem).toContain('PRIVATE KEY');
    expect(JSON.stringify(good)).not.toContain('PRIVATE KEY');
    expect(inspect(good, { depth: 5 })).not.toContain('PRIVATE KEY');
    expect(Object.keys(good)).not.toContain('keyPem');
  });

  it('accepts a chain that ends with the root itself, as Istio writes it', () => {
    const cert = buildWorkloadCertificate(
      { ...material, chainPem: good.chainPem + root.certificatePem },
      { where: 'test' },
    );
    expect(cert.spiffeId).toBe(ID);
  });

  it('rejects malformed PEM', () => {
    expect(rejection({ chainPem: 'garbage' })).toBe('test material: certificate chain is not valid PEM: no PEM block found');
    expect(rejection({ chainPem: good.chainPem.slice(0, 300) })).toMatch(/certificate chain is not valid PEM: a PEM block is incomplete/);
    expect(rejection({ chainPem: good.chainPem.replace(/A/g, '*') })).toMatch(/not valid PEM/);
    expect(rejection({ keyPem: good.keyPem.slice(0, 200) })).toMatch(/the private key is not valid PEM/);
    expect(rejection({ keyPem: good.certificatePem })).toMatch(/exactly one PRIVATE KEY block/);
    expect(rejection({ trustBundlePem: '' })).toMatch(/trust bundle is not valid PEM/);
  });

  it('rejects a key that does not match the leaf', async () => {
    const other = await intermediate.issue({ spiffeId: ID });
    expect(rejection({ keyPem: other.keyPem })).toBe('test material: the private key does not match the leaf certificate');
  });

  it('rejects a chain truncated below the bundle, or from another root', async () => {
    expect(rejection({ chainPem: good.certificatePem })).toMatch(/the leaf was not issued by any trust bundle certificate/);
    const otherRoot = await CertificateAuthority.createRoot({ trustDomain: 'cluster.local' });
    expect(rejection({ trustBundlePem: otherRoot.certificatePem })).toMatch(/chain certificate 2 .* was not issued by any trust bundle/);
  });

  it('rejects expired and not-yet-valid leaves', async () => {
    const hour = 3_600_000;
    const expired = await forgeLeaf(root, { spiffeId: ID, notBefore: new Date(Date.now() - 2 * hour), notAfter: new Date(Date.now() - hour) });
    expect(rejection({ chainPem: expired.certificatePem, keyPem: expired.keyPem, trustBundlePem: root.certificatePem })).toMatch(
      /the leaf expired at /,
    );
    expect(rejection({}, { now: new Date(good.notBefore.getTime() - 2 * 60_000) })).toMatch(/the leaf is not valid before/);
    expect(rejection({}, { now: new Date(good.notAfter.getTime() + 1) })).toMatch(/the leaf expired at/);
  });

  it('rejects a leaf outside the expected trust domain, or a CA as the leaf', () => {
    expect(rejection({}, { trustDomain: 'other.td' })).toBe(
      `test material: the leaf's SPIFFE ID ${ID} is outside trust domain other.td`,
    );
    expect(rejection({ chainPem: intermediate.certificatePem, keyPem: intermediate.exportPem().keyPem })).toBe(
      'test material: the leaf certificate is a CA certificate',
    );
  });
});

describe('name constraint encoding', () => {
  it('encodes a permitted URI subtree exactly as RFC 5280 lays it out', () => {
    const der = Buffer.from(encodeUriNameConstraints(['cluster.local']), 'binary');
    // SEQUENCE { [0] { SEQUENCE { [6] "cluster.local" } } }
    expect(der.toString('hex')).toBe(`3013a011300f860d${Buffer.from('cluster.local').toString('hex')}`);
    expect(decodeNameConstraints(der.toString('binary'))).toEqual({ permittedUris: ['cluster.local'], excludedUris: [], otherForms: [] });
    expect(() => encodeUriNameConstraints([])).toThrow();
  });
});

describe('splitPem', () => {
  it('allows comment text between blocks and normalises line endings', () => {
    const text = `subject=whatever\r\n${good.certificatePem.replace(/\n/g, '\r\n')}\nissuer=x\n${root.certificatePem}`;
    const split = splitPem(text);
    expect('blocks' in split && split.blocks.map((b) => b.pem)).toEqual([good.certificatePem, root.certificatePem]);
  });
});
