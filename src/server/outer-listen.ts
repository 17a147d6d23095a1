/**
 * Both of the mesh's servers (HTTP and gRPC) accept connections on an outer
 * TCP server of their own and hand TLS ones to a TLS server that never
 * listens. Listening is the same for both: load the first certificate into
 * the TLS side, so no handshake can arrive before there is one, then listen.
 */
import type { AddressInfo, Server as NetServer } from 'node:net';
import type { SecureContextOptions } from 'node:tls';

export interface CertificateSource {
  ready(): Promise<unknown>;
  current(): SecureContextOptions;
}

export async function listenOuter(
  outer: NetServer,
  secure: { setSecureContext(options: SecureContextOptions): void } | undefined,
  tls: CertificateSource | undefined,
  port: number,
  host: string | undefined,
): Promise<AddressInfo> {
  if (secure !== undefined && tls !== undefined) {
    await tls.ready();
    secure.setSecureContext(tls.current());
  }
  return new Promise((resolve, reject) => {
    outer.once('error', reject);
    outer.listen(port, host, () => {
      outer.off('error', reject);
      resolve(outer.address() as AddressInfo);
    });
  });
}
