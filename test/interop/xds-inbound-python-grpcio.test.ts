/**
 * Debian's python3-grpcio as an xDS-enabled server (`grpc.server(xds=True)`,
 * gRFC A36, with A41's RBAC in gRPC core): it takes its inbound listener
 * from our control plane, ACKs it, serves, and enforces a DENY policy
 * edited into the control plane's file. Callers are plain grpc-js clients.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlPlane } from '../../src/control/control-plane.js';
import { TYPE_URL } from '../../src/discovery/xds/envoy-protos.js';
import { stderrLogger } from '../../src/telemetry/logger.js';
import { type EchoClient, eventually, XdsWorkspace } from './xds-fixture.js';
import { denyThenLift, freePort, type InboundPeer, richListenerDeniesPlaintext, serverBootstrap } from './xds-inbound-fixture.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./xds_inbound_server.py', import.meta.url));
const NODE_ID = 'python-grpcio-xds-server';

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
  rules: [{ to: [{ operation: { paths: ["${deniedPath}"], methods: [POST] } }] }]
`;
}


describe.skipIf(!existsSync(PYTHON))('python3-grpcio xDS server against the proxyless control plane', () => {
  const ws = new XdsWorkspace();
  let cp: ControlPlane;
  let child: ChildProcessWithoutNullStreams;
  let client: EchoClient;
  let port: number;
  let stderr = '';

  beforeAll(async () => {
    ws.writeConfig(policies('/interop.Echo/Other'));
    cp = new ControlPlane({ configFile: ws.configFile, host: '127.0.0.1', port: 0, logger: stderrLogger('silent'), debounceMs: 20 });
    const cpPort = await cp.start();
    port = await freePort();
    const bootstrap = join(ws.dir, 'server-bootstrap.json');
    writeFileSync(
      bootstrap,
      JSON.stringify(serverBootstrap(cpPort, NODE_ID)),
    );
    child = spawn(PYTHON, [SCRIPT, `127.0.0.1:${port}`], { env: { PATH: process.env.PATH ?? '/usr/bin', GRPC_XDS_BOOTSTRAP: bootstrap } });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    await eventually(() => new Promise<true | undefined>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(d.toString().includes('started') ? true : undefined))), 'the python server to start');
    const Echo = ws.echoPackage().Echo as grpc.ServiceClientConstructor;
    client = new Echo(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as EchoClient;
  });

  afterAll(async () => {
    client?.close();
    child?.stdin.end();
    child?.kill();
    await cp?.close();
    ws.close();
  });

  const call = () =>
    new Promise<string>((resolve, reject) =>
      client.Call({ text: 'hi' }, { deadline: Date.now() + 5_000 }, (err, reply) => (err ? reject(err) : resolve(reply!.server))),
    );

  function listenerSubscription() {
    return cp.status().clients.find((c) => c.nodeId === NODE_ID)?.subscriptions.find((s) => s.typeUrl === TYPE_URL.listener);
  }
  const peer: InboundPeer = { ws, call, subscription: listenerSubscription };

  it('ACKs the inbound listener and serves', async () => {
    const served = await eventually(() => call().then((s) => s, () => undefined), `the python server to serve (stderr: ${stderr.slice(-500)})`);
    expect(served).toBe('python-xds-server');
    const sub = listenerSubscription()!;
    expect(sub.sent).toContain(`xds.istio.io/grpc/lds/inbound/127.0.0.1:${port}`);
    expect(sub.lastNack).toBeUndefined();
    expect(sub.ackedVersion).toBe(sub.sentVersion);
  });

  it('enforces a DENY edited into the control plane file', () => denyThenLift(peer, policies));
  it('ACKs a listener using every field the translation writes, and denies a plaintext caller no ALLOW rule admits', () =>
    richListenerDeniesPlaintext(peer));
});
