/**
 * STRICT mTLS from a PeerAuthentication, served in the inbound listener's
 * DownstreamTlsContext, taken by `@grpc/grpc-js-xds`'s XdsServer with
 * XdsServerCredentials and its bootstrap's `file_watcher` certificate
 * provider `default` (as istiod's agent writes it): the server requires a
 * client certificate, and an ALLOW policy on the caller's SPIFFE principal
 * admits the frontend and denies another workload (RBAC over the
 * authenticated principal, gRFC A41).
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlPlane } from '../../src/control/control-plane.js';
import { TYPE_URL } from '../../src/discovery/xds/envoy-protos.js';
import { CertificateAuthority } from '../../src/security/certs/ca.js';
import { stderrLogger } from '../../src/telemetry/logger.js';
import { type MountedCertificates, mountCertificates } from '../helpers/rotating-certs.js';
import { type EchoClient, eventually, XdsWorkspace } from './xds-fixture.js';
import { freePort } from './xds-inbound-fixture.js';

const NODE_ID = 'grpc-js-xds-mtls-server';

const POLICIES = `services: {}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: strict, namespace: istio-system }
spec: { mtls: { mode: STRICT } }
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: frontend-only, namespace: shop }
spec:
  selector: { matchLabels: { app: echo } }
  rules: [{ from: [{ source: { principals: ["cluster.local/ns/shop/sa/frontend"] } }] }]
`;


describe('@grpc/grpc-js-xds XdsServer with STRICT mTLS from the proxyless control plane', () => {
  const ws = new XdsWorkspace();
  const mounts: MountedCertificates[] = [];
  let cp: ControlPlane;
  let server: grpc.Server;
  let port: number;
  let ca: CertificateAuthority;
  const clients: grpc.Client[] = [];

  beforeAll(async () => {
    ca = await CertificateAuthority.createRoot({ trustDomain: 'cluster.local' });
    const serverCerts = await mountCertificates(ca, 'spiffe://cluster.local/ns/shop/sa/echo');
    mounts.push(serverCerts);
    ws.writeConfig(POLICIES);
    cp = new ControlPlane({ configFile: ws.configFile, host: '127.0.0.1', port: 0, logger: stderrLogger('silent'), debounceMs: 20 });
    const cpPort = await cp.start();
    port = await freePort();
    process.env.GRPC_XDS_EXPERIMENTAL_RBAC = 'true';
    process.env.GRPC_XDS_BOOTSTRAP_CONFIG = JSON.stringify({
      xds_servers: [{ server_uri: `127.0.0.1:${cpPort}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
      node: { id: NODE_ID, cluster: 'interop', locality: {}, metadata: { NAMESPACE: 'shop', LABELS: { app: 'echo' } } },
      server_listener_resource_name_template: 'xds.istio.io/grpc/lds/inbound/%s',
      certificate_providers: {
        default: {
          plugin_name: 'file_watcher',
          config: {
            certificate_file: join(serverCerts.dir, 'cert-chain.pem'),
            private_key_file: join(serverCerts.dir, 'key.pem'),
            ca_certificate_file: join(serverCerts.dir, 'root-cert.pem'),
            refresh_interval: '600s',
          },
        },
      },
    });
    const xds = createRequire(import.meta.url)('@grpc/grpc-js-xds') as {
      register(): void;
      XdsServer: new () => grpc.Server;
      XdsServerCredentials: new (fallback: grpc.ServerCredentials) => grpc.ServerCredentials;
    };
    xds.register();
    server = new xds.XdsServer();
    const Echo = ws.echoPackage().Echo as grpc.ServiceClientConstructor;
    server.addService(Echo.service, {
      Call: (call: grpc.ServerUnaryCall<{ text: string }, unknown>, cb: grpc.sendUnaryData<unknown>) => cb(null, { server: 'mtls-server', text: call.request.text }),
    });
    await new Promise<void>((resolve, reject) =>
      server.bindAsync(`127.0.0.1:${port}`, new xds.XdsServerCredentials(grpc.ServerCredentials.createInsecure()), (err) => (err ? reject(err) : resolve())),
    );
  });

  afterAll(async () => {
    for (const c of clients) c.close();
    server?.forceShutdown();
    await cp?.close();
    for (const m of mounts) m.remove();
    ws.close();
  });

  async function clientAs(account: string | undefined): Promise<EchoClient> {
    const Echo = ws.echoPackage().Echo as grpc.ServiceClientConstructor;
    let creds = grpc.credentials.createInsecure();
    if (account !== undefined) {
      const cert = await ca.issue({ spiffeId: `spiffe://cluster.local/ns/shop/sa/${account}` });
      // SPIFFE certificates carry a URI SAN, no host name: identity is checked by policy, not by name.
      creds = grpc.credentials.createSsl(Buffer.from(cert.trustBundlePems.join('')), Buffer.from(cert.keyPem), Buffer.from(cert.chainPem), {
        checkServerIdentity: () => undefined,
      });
    }
    const client = new Echo(`127.0.0.1:${port}`, creds) as unknown as EchoClient;
    clients.push(client);
    return client;
  }

  const call = (client: EchoClient) =>
    new Promise<string>((resolve, reject) =>
      client.Call({ text: 'hi' }, { deadline: Date.now() + 5_000 }, (err, reply) => (err ? reject(err) : resolve(reply!.server))),
    );

  it('ACKs the STRICT listener and admits the frontend over mTLS', async () => {
    const subscription = () => cp.status().clients.find((c) => c.nodeId === NODE_ID)?.subscriptions.find((s) => s.typeUrl === TYPE_URL.listener);
    await eventually(() => (subscription()?.ackedVersion !== undefined ? true : undefined), 'the ACK');
    expect(subscription()?.lastNack).toBeUndefined();
    expect(subscription()?.ackedVersion).toBe(subscription()?.sentVersion);
    expect(await call(await clientAs('frontend'))).toBe('mtls-server');
  });

  it('denies another workload by its principal, and refuses a plaintext caller', async () => {
    const other = await clientAs('batch');
    const denied = await call(other).then(
      () => undefined,
      (err: grpc.ServiceError) => err,
    );
    expect(denied?.code).toBe(grpc.status.PERMISSION_DENIED);
    const plain = await call(await clientAs(undefined)).then(
      () => undefined,
      (err: grpc.ServiceError) => err,
    );
    expect(plain?.code).toBe(grpc.status.UNAVAILABLE);
  });
});
