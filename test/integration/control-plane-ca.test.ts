/**
 * The control plane's certificate service: a workload gets a certificate
 * with a bootstrap token bound to its identity, renews it with its current
 * certificate, and is refused (with the right gRPC status and a reason) for
 * anything else.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caAuthenticator } from '../../src/control/ca-auth.js';
import { requestWorkloadCertificate } from '../../src/control/ca-client.js';
import { ControlPlane } from '../../src/control/control-plane.js';
import { CertificateAuthority } from '../../src/security/certs/ca.js';
import { stderrLogger } from '../../src/telemetry/logger.js';

const TOKEN = 'shop-bootstrap-token-0123456789';
const CART = 'spiffe://cluster.local/ns/shop/sa/cart';

describe('control plane certificate service', () => {
  const dir = mkdtempSync(join(tmpdir(), 'proxyless-ca-'));
  let ca: CertificateAuthority;
  let cp: ControlPlane;
  let address: string;

  beforeAll(async () => {
    writeFileSync(join(dir, 'mesh.yaml'), 'services: {}\n');
    ca = await CertificateAuthority.createRoot({ trustDomain: 'cluster.local' });
    const authenticate = caAuthenticator(ca, [{ token: TOKEN, identities: ['spiffe://cluster.local/ns/shop/sa/*'] }]);
    cp = new ControlPlane({ configFile: join(dir, 'mesh.yaml'), host: '127.0.0.1', port: 0, logger: stderrLogger('silent'), ca: { authority: ca, authenticate } });
    address = `127.0.0.1:${await cp.start()}`;
  });

  afterAll(async () => {
    await cp.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const refusal = async (p: Promise<unknown>) => {
    const err = (await p.then(
      () => undefined,
      (e: unknown) => e,
    )) as grpc.ServiceError | undefined;
    expect(err).toBeDefined();
    return { code: err!.code, details: err!.details };
  };

  it('issues a certificate for an identity the bootstrap token covers', async () => {
    const got = await requestWorkloadCertificate({ address, spiffeId: CART, token: TOKEN });
    const leaf = new X509Certificate(got.chainPem);
    expect(leaf.subjectAltName).toBe(`URI:${CART}`);
    expect(leaf.verify(new X509Certificate(got.trustBundlePem).publicKey)).toBe(true);
    expect(got.trustBundlePem).toBe(ca.trustBundlePems[0]);
    expect(leaf.checkPrivateKey((await import('node:crypto')).createPrivateKey(got.keyPem))).toBe(true);
  });

  it('honours a shorter requested lifetime, never a longer one', async () => {
    const short = await requestWorkloadCertificate({ address, spiffeId: CART, token: TOKEN, ttlMs: 3_600_000 });
    const leaf = new X509Certificate(short.chainPem);
    const lifetime = leaf.validToDate.getTime() - Date.now();
    expect(lifetime).toBeLessThanOrEqual(3_600_000);
    expect(lifetime).toBeGreaterThan(3_000_000);
  });

  it('refuses without credentials, with an unknown token, and outside the token grant', async () => {
    expect(await refusal(requestWorkloadCertificate({ address, spiffeId: CART }))).toMatchObject({
      code: grpc.status.UNAUTHENTICATED,
      details: expect.stringContaining('bootstrap token'),
    });
    expect(await refusal(requestWorkloadCertificate({ address, spiffeId: CART, token: 'not-a-known-token-at-all' }))).toMatchObject({
      code: grpc.status.UNAUTHENTICATED,
      details: expect.stringContaining('not known'),
    });
    expect(
      await refusal(requestWorkloadCertificate({ address, spiffeId: 'spiffe://cluster.local/ns/bank/sa/vault', token: TOKEN })),
    ).toMatchObject({ code: grpc.status.PERMISSION_DENIED, details: expect.stringContaining('ns/bank/sa/vault') });
    expect(
      await refusal(requestWorkloadCertificate({ address, spiffeId: 'spiffe://other.domain/ns/shop/sa/cart', token: TOKEN })),
    ).toMatchObject({ code: grpc.status.PERMISSION_DENIED, details: expect.stringContaining('other.domain') });
    expect(await refusal(requestWorkloadCertificate({ address, spiffeId: CART, token: 'short' }))).toMatchObject({
      code: grpc.status.UNAUTHENTICATED,
    });
  });

  it('renews with the current certificate for the same identity only', async () => {
    const first = await requestWorkloadCertificate({ address, spiffeId: CART, token: TOKEN });
    const renewed = await requestWorkloadCertificate({ address, spiffeId: CART, current: first });
    expect(new X509Certificate(renewed.chainPem).subjectAltName).toBe(`URI:${CART}`);
    expect(new X509Certificate(renewed.chainPem).serialNumber).not.toBe(new X509Certificate(first.chainPem).serialNumber);
    expect(
      await refusal(requestWorkloadCertificate({ address, spiffeId: 'spiffe://cluster.local/ns/shop/sa/admin', current: first })),
    ).toMatchObject({ code: grpc.status.PERMISSION_DENIED, details: expect.stringContaining('may renew only itself') });
  });

  it('refuses a renewal by a certificate from another CA, or signed by another key', async () => {
    const stranger = await CertificateAuthority.createRoot({ trustDomain: 'cluster.local' });
    const foreign = await stranger.issue({ spiffeId: CART });
    expect(
      await refusal(requestWorkloadCertificate({ address, spiffeId: CART, current: { chainPem: foreign.chainPem, keyPem: foreign.keyPem } })),
    ).toMatchObject({ code: grpc.status.UNAUTHENTICATED, details: expect.stringContaining('not issued by this CA') });
    const mine = await requestWorkloadCertificate({ address, spiffeId: CART, token: TOKEN });
    expect(
      await refusal(requestWorkloadCertificate({ address, spiffeId: CART, current: { chainPem: mine.chainPem, keyPem: foreign.keyPem } })),
    ).toMatchObject({ code: grpc.status.UNAUTHENTICATED, details: expect.stringContaining('signature') });
  });
});
