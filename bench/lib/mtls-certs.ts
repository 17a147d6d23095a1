/**
 * The certificates of the mTLS benches: a root CA, the upstream's
 * certificate and the client's, written under `dir`. The client's go in
 * `dir/client` in the layout the mesh's files provider reads.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CertificateAuthority } from '../../src/security/certs/ca.js';

export interface BenchCertificates {
  /** Arguments for lib/tls-upstream.ts: chain, key and CA bundle paths. */
  readonly upstreamArgs: string[];
  /** The client's directory: cert-chain.pem, key.pem, root-cert.pem. */
  readonly clientDir: string;
}

export async function writeBenchCertificates(dir: string): Promise<BenchCertificates> {
  const ca = await CertificateAuthority.createRoot({ trustDomain: 'cluster.local' });
  const server = await ca.issue({ spiffeId: 'spiffe://cluster.local/ns/default/sa/upstream' });
  const client = await ca.issue({ spiffeId: 'spiffe://cluster.local/ns/default/sa/bench' });
  const bundle = ca.trustBundlePems.join('');
  writeFileSync(join(dir, 'server.pem'), server.chainPem);
  writeFileSync(join(dir, 'server-key.pem'), server.keyPem);
  writeFileSync(join(dir, 'ca.pem'), bundle);
  const clientDir = join(dir, 'client');
  mkdirSync(clientDir);
  writeFileSync(join(clientDir, 'cert-chain.pem'), client.chainPem);
  writeFileSync(join(clientDir, 'key.pem'), client.keyPem);
  writeFileSync(join(clientDir, 'root-cert.pem'), bundle);
  return { upstreamArgs: [join(dir, 'server.pem'), join(dir, 'server-key.pem'), join(dir, 'ca.pem')], clientDir };
}

/**
 * undici connect options for a raw client with the certificate in
 * `clientDir`. No hostname check: the certificate names a SPIFFE ID, not
 * 127.0.0.1; the mesh checks the SPIFFE ID instead.
 */
export function rawClientTls(clientDir: string): { ca: string; cert: string; key: string; checkServerIdentity: () => undefined } {
  const read = (name: string) => readFileSync(join(clientDir, name), 'utf8');
  return { ca: read('root-cert.pem'), cert: read('cert-chain.pem'), key: read('key.pem'), checkServerIdentity: () => undefined };
}
