/**
 * `@grpc/grpc-js-xds`'s xDS-enabled server (`XdsServer`, gRFC A36), a real
 * consumer we did not write, takes its inbound listener from our control
 * plane: it ACKs the listener (address, filter chain, HttpConnectionManager
 * with the RBAC filters and the router), starts serving, and enforces an
 * AuthorizationPolicy edited into the control plane's file as an RBAC
 * denial (gRFC A41, which grpc-js 1.14 gates behind
 * GRPC_XDS_EXPERIMENTAL_RBAC=true).
 */
import { createRequire } from 'node:module';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlPlane } from '../../src/control/control-plane.js';
import { TYPE_URL } from '../../src/discovery/xds/envoy-protos.js';
import { stderrLogger } from '../../src/telemetry/logger.js';
import { type EchoClient, eventually, XdsWorkspace } from './xds-fixture.js';
import { denyThenLift, freePort, type InboundPeer, richListenerDeniesPlaintext, serverBootstrap } from './xds-inbound-fixture.js';

const NODE_ID = 'grpc-js-xds-server';

function policies(deniedPath: string): string {
  return `services: {}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: plaintext, namespace: shop }
spec: { mtls: { mode: DISABLE } }
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: deny-call, namespace: shop }
spec:
  selector: { matchLabels: { app: echo } }
  action: DENY
  rules: [{ to: [{ operation: { paths: ["${deniedPath}"] } }] }]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: allow-plaintext-callers, namespace: shop }
spec:
  rules: [{ from: [{ source: { notPrincipals: ["cluster.local/ns/blocked/sa/*"] } }], to: [{ operation: { methods: [POST] } }] }]
`;
}


describe('@grpc/grpc-js-xds XdsServer against the proxyless control plane', () => {
  const ws = new XdsWorkspace();
  let cp: ControlPlane;
  let server: grpc.Server;
  let client: EchoClient;
  let port: number;

  beforeAll(async () => {
    ws.writeConfig(policies('/interop.Echo/Other'));
    cp = new ControlPlane({ configFile: ws.configFile, host: '127.0.0.1', port: 0, logger: stderrLogger('silent'), debounceMs: 20 });
    const cpPort = await cp.start();
    port = await freePort();
    process.env.GRPC_XDS_EXPERIMENTAL_RBAC = 'true';
    process.env.GRPC_XDS_BOOTSTRAP_CONFIG = JSON.stringify(serverBootstrap(cpPort, NODE_ID));
    const xds = createRequire(import.meta.url)('@grpc/grpc-js-xds') as { register(): void; XdsServer: new () => grpc.Server };
    // register() also installs the HTTP filters (router, RBAC) the server's listener validation looks up.
    xds.register();
    server = new xds.XdsServer();
    const Echo = ws.echoPackage().Echo as grpc.ServiceClientConstructor;
    server.addService(Echo.service, {
      Call: (call: grpc.ServerUnaryCall<{ text: string }, unknown>, cb: grpc.sendUnaryData<unknown>) => cb(null, { server: 'xds-server', text: call.request.text }),
    });
    // The callback comes once the server has a valid listener and serves.
    await new Promise<void>((resolve, reject) =>
      server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())),
    );
    client = new Echo(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as EchoClient;
  });

  afterAll(async () => {
    client?.close();
    server?.forceShutdown();
    await cp?.close();
    ws.close();
  });

  const call = () =>
    new Promise<string>((resolve, reject) =>
      client.Call({ text: 'hi' }, { deadline: Date.now() + 10_000 }, (err, reply) => (err ? reject(err) : resolve(reply!.server))),
    );

  function inboundSubscription() {
    const me = cp.status().clients.find((c) => c.nodeId === NODE_ID);
    return me?.subscriptions.find((s) => s.typeUrl === TYPE_URL.listener);
  }
  const peer: InboundPeer = { ws, call, subscription: inboundSubscription };

  it('ACKs the inbound listener and serves', async () => {
    const name = `xds.istio.io/grpc/lds/inbound/127.0.0.1:${port}`;
    await eventually(() => (inboundSubscription()?.ackedVersion === inboundSubscription()?.sentVersion ? true : undefined), 'the ACK');
    const sub = inboundSubscription()!;
    expect(sub.names).toContain(name);
    expect(sub.sent).toContain(name);
    expect(sub.lastNack).toBeUndefined();
    expect(await call()).toBe('xds-server');
  });

  it('enforces a DENY edited into the control plane file, and lifts it again', () => denyThenLift(peer, policies));
  it('ACKs a listener using every field the translation writes, and denies a plaintext caller no ALLOW rule admits', () =>
    richListenerDeniesPlaintext(peer));
});
