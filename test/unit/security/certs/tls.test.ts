import type { AddressInfo } from 'node:net';
import { connect, createServer, type TLSSocket } from 'node:tls';
import { beforeAll, describe, expect, it } from 'vitest';
import { CertificateAuthority } from '../../../../src/security/certs/ca.js';
import { secureContextOptions, type WorkloadCertificate } from '../../../../src/security/certs/workload-certificate.js';

const SERVER_ID = 'spiffe://cluster.local/ns/shop/sa/server';
const CLIENT_ID = 'spiffe://cluster.local/ns/shop/sa/client';

let root: CertificateAuthority;
let server: WorkloadCertificate;
let client: WorkloadCertificate;

beforeAll(async () => {
  root = await CertificateAuthority.createRoot({ trustDomain: 'cluster.local' });
  const intermediate = await root.createIntermediate();
  [server, client] = await Promise.all([
    intermediate.issue({ spiffeId: SERVER_ID }),
    intermediate.issue({ spiffeId: CLIENT_ID }),
  ]);
});

interface Handshake {
  serverSawPeer: string | undefined;
  serverAuthorized: boolean;
  clientSawPeer: string | undefined;
  clientAuthorized: boolean;
  clientError: string | undefined;
}

async function handshake(serverCert: WorkloadCertificate, clientCert: WorkloadCertificate | undefined, ca: string): Promise<Handshake> {
  const result: Handshake = {
    serverSawPeer: undefined,
    serverAuthorized: false,
    clientSawPeer: undefined,
    clientAuthorized: false,
    clientError: undefined,
  };
  const tlsServer = createServer({ ...secureContextOptions(serverCert), requestCert: true, rejectUnauthorized: true }, (socket) => {
    result.serverAuthorized = socket.authorized;
    result.serverSawPeer = socket.getPeerX509Certificate()?.subjectAltName;
    socket.end('hello');
  });
  tlsServer.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
  const { port } = tlsServer.address() as AddressInfo;
  try {
    await new Promise<void>((resolve) => {
      const socket: TLSSocket = connect({
        host: '127.0.0.1',
        port,
        ...(clientCert ? { key: clientCert.keyPem, cert: clientCert.chainPem } : {}),
        ca,
        // Mesh peers are checked by SPIFFE ID, not hostname.
        checkServerIdentity: () => undefined,
      });
      socket.on('secureConnect', () => {
        result.clientAuthorized = socket.authorized;
        result.clientSawPeer = socket.getPeerX509Certificate()?.subjectAltName;
      });
      socket.on('data', () => {});
      socket.on('error', (err) => {
        result.clientError = (err as NodeJS.ErrnoException).code ?? err.message;
        resolve();
      });
      socket.on('close', () => resolve());
    });
  } finally {
    await new Promise<void>((resolve) => tlsServer.close(() => resolve()));
  }
  return result;
}

describe('node:tls with issued material', () => {
  it('completes mutual TLS, each side verifying the other against the bundle and reading its SPIFFE ID', async () => {
    const r = await handshake(server, client, server.trustBundlePems.join(''));
    expect(r.clientError).toBeUndefined();
    expect(r.clientAuthorized).toBe(true);
    expect(r.serverAuthorized).toBe(true);
    expect(r.clientSawPeer).toBe(`URI:${SERVER_ID}`);
    expect(r.serverSawPeer).toBe(`URI:${CLIENT_ID}`);
  });

  it('fails the handshake for a client with no certificate or one from another CA', async () => {
    const noCert = await handshake(server, undefined, server.trustBundlePems.join(''));
    expect(noCert.serverSawPeer).toBeUndefined();
    expect(noCert.serverAuthorized).toBe(false);

    const stranger = await (await CertificateAuthority.createRoot({ trustDomain: 'cluster.local' })).issue({ spiffeId: CLIENT_ID });
    const foreign = await handshake(server, stranger, server.trustBundlePems.join(''));
    expect(foreign.serverSawPeer).toBeUndefined();
    expect(foreign.serverAuthorized).toBe(false);
  });

});
