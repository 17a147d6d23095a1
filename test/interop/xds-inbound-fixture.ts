/**
 * What the inbound-listener interop tests share, whichever xDS server
 * consumes the listener (grpc-js-xds, python3-grpcio): a free port for the
 * server to bind, the server's bootstrap, and the two scenarios each peer
 * must pass (a DENY edited in and out; a listener with every field the
 * translation writes, ACKed, denying a plaintext caller).
 */
import { createServer } from 'node:net';
import type * as grpc from '@grpc/grpc-js';
import { expect } from 'vitest';
import { richPolicies } from '../helpers/inbound-policies.js';
import { eventually, type XdsWorkspace } from './xds-fixture.js';

/** A port nothing listens on now: an xDS server binds it only once its listener arrives. */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** gRPC's bootstrap for an xDS server in namespace shop labelled app=echo, with istiod's listener name template. */
export function serverBootstrap(controlPlanePort: number, nodeId: string): Record<string, unknown> {
  return {
    xds_servers: [{ server_uri: `127.0.0.1:${controlPlanePort}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
    node: { id: nodeId, cluster: 'interop', locality: {}, metadata: { NAMESPACE: 'shop', LABELS: { app: 'echo' } } },
    server_listener_resource_name_template: 'xds.istio.io/grpc/lds/inbound/%s',
  };
}

/** One peer's server as the scenarios drive it. */
export interface InboundPeer {
  readonly ws: XdsWorkspace;
  /** One call to the server: the name it answers with, or the ServiceError. */
  call(): Promise<string>;
  /** The control plane's view of the server's listener subscription. */
  subscription(): { ackedVersion?: string | undefined; sentVersion?: string | undefined; lastNack?: unknown } | undefined;
}

function permissionDenied(peer: InboundPeer): Promise<grpc.ServiceError | undefined> {
  return peer.call().then(
    () => undefined,
    (err: grpc.ServiceError) => (err.code === 7 ? err : undefined),
  );
}

/** A DENY on the called path is written into the control plane's file, enforced, then written out and lifted. */
export async function denyThenLift(peer: InboundPeer, policies: (deniedPath: string) => string): Promise<void> {
  peer.ws.writeConfig(policies('/interop.Echo/Call'));
  const denied = await eventually(() => permissionDenied(peer), 'the RBAC denial');
  expect(denied.code).toBe(7);
  expect(peer.subscription()!.lastNack).toBeUndefined();
  peer.ws.writeConfig(policies('/interop.Echo/Other'));
  await eventually(
    () =>
      peer.call().then(
        (s) => s,
        () => undefined,
      ),
    'the denial to be lifted',
  );
}

/** Every field the translation writes, in one listener: ACKed (no NACK), and its ALLOW policies refuse a plaintext caller. */
export async function richListenerDeniesPlaintext(peer: InboundPeer): Promise<void> {
  const before = peer.subscription()!.ackedVersion;
  peer.ws.writeConfig(`${richPolicies('echo')}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: plaintext, namespace: shop }
spec: { mtls: { mode: DISABLE } }
`);
  await eventually(() => {
    const sub = peer.subscription()!;
    return sub.ackedVersion !== before && sub.ackedVersion === sub.sentVersion ? true : undefined;
  }, 'the ACK of the new listener');
  expect(peer.subscription()!.lastNack).toBeUndefined();
  const denied = await eventually(() => permissionDenied(peer), 'the ALLOW policies to deny the plaintext caller');
  expect(denied.code).toBe(7);
}
