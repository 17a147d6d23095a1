/**
 * `@grpc/grpc-js-xds`, a real xDS client we did not write, resolves
 * `xds:///reviews` through our control plane and calls real grpc-js servers:
 * a weighted split, an update pushed by editing the YAML, and a resource it
 * must refuse (NACK) without breaking what it already has.
 */
import { createRequire } from 'node:module';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlPlane } from '../../src/control/control-plane.js';
import { TYPE_URL } from '../../src/discovery/xds/envoy-protos.js';
import { stderrLogger } from '../../src/telemetry/logger.js';
import { type EchoClient, type EchoServer, eventually, splitConfig, XdsWorkspace } from './xds-fixture.js';

const NODE_ID = 'grpc-js-xds-interop';

describe('@grpc/grpc-js-xds against the proxyless control plane', () => {
  const ws = new XdsWorkspace();
  let v1: EchoServer;
  let v2: EchoServer;
  let cp: ControlPlane;
  let client: EchoClient;

  beforeAll(async () => {
    v1 = await ws.startEcho('v1');
    v2 = await ws.startEcho('v2');
    ws.writeConfig(splitConfig(v1, v2, [80, 20]));
    cp = new ControlPlane({ configFile: ws.configFile, host: '127.0.0.1', port: 0, logger: stderrLogger('silent'), debounceMs: 20 });
    const port = await cp.start();
    process.env.GRPC_XDS_BOOTSTRAP_CONFIG = ws.bootstrap(port, NODE_ID);
    createRequire(import.meta.url)('@grpc/grpc-js-xds').register();
    const Echo = ws.echoPackage().Echo as grpc.ServiceClientConstructor;
    client = new Echo('xds:///reviews', grpc.credentials.createInsecure()) as unknown as EchoClient;
  });

  afterAll(async () => {
    client?.close();
    await cp?.close();
    ws.close();
  });

  const call = () =>
    new Promise<string>((resolve, reject) =>
      client.Call({ text: 'hi' }, { deadline: Date.now() + 10_000 }, (err, reply) => (err ? reject(err) : resolve(reply!.server))),
    );

  /** reviews as Istio resources: a ServiceEntry for both servers, a DestinationRule with their subsets, and a VirtualService whose spec goes on with `rest`. */
  const istioReviews = (rest: string) => `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: reviews }
spec:
  hosts: [reviews]
  ports: [{ number: 9080, name: grpc }]
  resolution: STATIC
  endpoints:
    - { address: 127.0.0.1, ports: { grpc: ${v1.port} }, labels: { version: v1 } }
    - { address: 127.0.0.1, ports: { grpc: ${v2.port} }, labels: { version: v2 } }
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews }
spec:
  host: reviews
  trafficPolicy: { loadBalancer: { simple: ROUND_ROBIN } }
  subsets:
    - { name: v1, labels: { version: v1 } }
    - { name: v2, labels: { version: v2 } }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews }
spec:
  hosts: [reviews]
${rest}`;

  async function tally(n: number): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (let i = 0; i < n; i++) {
      const server = await call();
      counts[server] = (counts[server] ?? 0) + 1;
    }
    return counts;
  }

  it('resolves xds:///reviews and splits calls by the configured weights', async () => {
    await eventually(() => call(), 'the first call through xDS');
    const counts = await tally(400);
    // 80/20 over 400 calls: v2 expects 80 (sd 8); the bounds are over 5 sd wide.
    expect(counts.v1! + (counts.v2 ?? 0)).toBe(400);
    expect(counts.v2).toBeGreaterThan(40);
    expect(counts.v2).toBeLessThan(130);
  });

  it('acknowledges every resource type, visible in the status with its node id', () => {
    const me = cp.status().clients.find((c) => c.nodeId === NODE_ID);
    expect(me).toBeDefined();
    const types = me!.subscriptions.map((s) => s.typeUrl).sort();
    expect(types).toEqual([TYPE_URL.cluster, TYPE_URL.clusterLoadAssignment, TYPE_URL.listener, TYPE_URL.routeConfiguration].sort());
    for (const sub of me!.subscriptions) {
      expect(sub.lastNack).toBeUndefined();
      expect(sub.ackedVersion).toBe(sub.sentVersion);
    }
    expect(me!.subscriptions.find((s) => s.typeUrl === TYPE_URL.listener)!.names).toEqual(['reviews']);
  });

  it('follows an update pushed by editing the YAML file while it runs', async () => {
    const before = cp.snapshot.version;
    ws.writeConfig(splitConfig(v1, v2, [0, 100]));
    await eventually(() => (cp.snapshot.version !== before ? true : undefined), 'the control plane to serve the edit');
    await eventually(async () => {
      const counts = await tally(20);
      return counts.v2 === 20 ? counts : undefined;
    }, 'all calls to go to v2');
  });

  it('keeps the last good config when the file becomes invalid', async () => {
    const before = cp.snapshot.version;
    ws.writeConfig(splitConfig(v1, v2, [0, 100]).replace('policy: round-robin', 'policy: fastest'));
    await eventually(() => cp.status().lastRejectedConfig, 'the rejection');
    expect(cp.status().lastRejectedConfig!.message).toMatch(/mesh\.loadBalancer\.policy/);
    expect(cp.snapshot.version).toBe(before);
    expect(await tally(10)).toEqual({ v2: 10 });
  });

  it('ACKs clusters offering a custom policy it has not registered (gRFC A52) and balances them round-robin', async () => {
    const before = cp.snapshot.version;
    // The control plane offers a dotted custom name as a TypedStruct, then RoundRobin for clients without it.
    ws.writeConfig(splitConfig(v1, v2, [0, 100]).replace('policy: round-robin', 'policy: myorg.FewestInFlight, config: { maxInFlight: 4 }'));
    await eventually(() => (cp.snapshot.version !== before ? true : undefined), 'the control plane to serve the edit');
    const clusters = () => cp.status().clients.find((c) => c.nodeId === NODE_ID)?.subscriptions.find((s) => s.typeUrl === TYPE_URL.cluster);
    await eventually(() => (clusters()?.ackedVersion === cp.snapshot.typeVersions.get(TYPE_URL.cluster) ? true : undefined), 'the ACK');
    expect(clusters()!.lastNack).toBeUndefined();
    expect(await tally(10)).toEqual({ v2: 10 });
  });

  it('routes by method and authority, sent as :method and :authority header matchers as istiod writes them', async () => {
    const routed = (authority: string) =>
      splitConfig(v1, v2, [100, 0]).replace(
        '    routes:\n',
        `    routes:\n      - match: [{ method: POST, authority: { ${authority} } }]\n        route: [{ destination: { subset: v2 } }]\n`,
      );
    ws.writeConfig(routed('prefix: reviews'));
    await eventually(async () => {
      const counts = await tally(10);
      return counts.v2 === 10 ? counts : undefined;
    }, 'calls (POST, to authority "reviews") to take the v2 route');
    ws.writeConfig(routed('exact: elsewhere'));
    await eventually(async () => {
      const counts = await tally(10);
      return counts.v1 === 10 ? counts : undefined;
    }, 'calls to fall through to v1 once the authority no longer matches');
  });

  it('NACKs clusters it cannot use (mTLS without a certificate provider), keeps serving, and recovers', async () => {
    ws.writeConfig(splitConfig(v1, v2, [0, 100]).replace('    port: 9080\n', '    port: 9080\n    tls: { mode: mutual }\n'));
    const nack = await eventually(() => {
      const me = cp.status().clients.find((c) => c.nodeId === NODE_ID);
      return me?.subscriptions.find((s) => s.typeUrl === TYPE_URL.cluster)?.lastNack;
    }, 'grpc-js-xds to NACK the reviews clusters');
    expect(nack.message).toMatch(/certificate_provider_instance/);
    expect(nack.resources).toContain('outbound|9080|v2|reviews.default.svc.cluster.local');
    // The client keeps the clusters it had: every call still succeeds.
    expect(await tally(20)).toEqual({ v2: 20 });
    // A good edit afterwards is accepted again.
    ws.writeConfig(splitConfig(v1, v2, [100, 0]));
    await eventually(async () => {
      const counts = await tally(20);
      return counts.v1 === 20 ? counts : undefined;
    }, 'all calls to go to v1');
    const clusters = cp.status().clients.find((c) => c.nodeId === NODE_ID)!.subscriptions.find((s) => s.typeUrl === TYPE_URL.cluster)!;
    await eventually(() => (clusters.ackedVersion === cp.snapshot.typeVersions.get(TYPE_URL.cluster) ? true : undefined), 'the ACK');
  });

  it('serves the same routing written as Istio resources (ServiceEntry, DestinationRule, VirtualService)', async () => {
    ws.writeConfig(
      istioReviews(`  http:
    - route:
        - { destination: { host: reviews, subset: v2 }, weight: 100 }
`),
    );
    await eventually(async () => {
      const counts = await tally(20);
      return counts.v2 === 20 ? counts : undefined;
    }, 'all calls to go to v2 as the VirtualService says');
  });

  it('aborts calls with the gRPC status a route fault names (gRFC A33), and stops when the fault is removed', async () => {
    const faulty = splitConfig(v1, v2, [100, 0]).replace(
      '    routes:\n      - route:\n',
      '    routes:\n      - fault: { abort: { percentage: 100, grpcStatus: PERMISSION_DENIED } }\n        route:\n',
    );
    expect(faulty).toContain('grpcStatus: PERMISSION_DENIED');
    ws.writeConfig(faulty);
    const err = await eventually(
      () => call().then(
        () => undefined,
        (e: grpc.ServiceError) => (e.code === grpc.status.PERMISSION_DENIED ? e : undefined),
      ),
      'calls to fail with PERMISSION_DENIED',
    );
    expect(err.code).toBe(grpc.status.PERMISSION_DENIED);
    ws.writeConfig(splitConfig(v1, v2, [100, 0]));
    await eventually(() => call().then((server) => (server === 'v1' ? server : undefined), () => undefined), 'calls to reach v1 again');
  });

  it('NACKs a route configuration with a direct response (grpc-js takes only route actions) and keeps serving', async () => {
    // gRPC's other implementations (gRFC A28) accept such a route and fail only the calls it matches; see the python3-grpcio suite.
    ws.writeConfig(
      splitConfig(v1, v2, [100, 0]).replace('    routes:\n', '    routes:\n      - match: [{ uri: { prefix: /closed } }]\n        directResponse: { status: 503 }\n'),
    );
    const nack = await eventually(() => {
      const rds = cp.status().clients.find((c) => c.nodeId === NODE_ID)!.subscriptions.find((s) => s.typeUrl === TYPE_URL.routeConfiguration)!;
      return rds.lastNack?.version === rds.sentVersion ? rds.lastNack : undefined;
    }, 'grpc-js to NACK the routes');
    expect(nack.message).toContain('unsupported action: direct_response');
    expect(await tally(10)).toEqual({ v1: 10 });
  });

  it('gets routes settled for its own workload when a VirtualService has source conditions', async () => {
    // The client's node has no LABELS and no NAMESPACE (so "default"): only the sourceNamespace entry applies to it.
    ws.writeConfig(
      istioReviews(`  gateways: [mesh, istio-system/ingress]
  http:
    - match: [{ sourceLabels: { app: productpage } }]
      route: [{ destination: { host: reviews, subset: v1 } }]
    - match: [{ sourceNamespace: default }]
      route: [{ destination: { host: reviews, subset: v2 } }]
    - route: [{ destination: { host: reviews, subset: v1 } }]
`),
    );
    await eventually(async () => {
      const counts = await tally(20);
      return counts.v2 === 20 ? counts : undefined;
    }, 'all calls to go to v2, the one route whose source conditions this client meets');
    await eventually(() => {
      const rds = cp.status().clients.find((c) => c.nodeId === NODE_ID)!.subscriptions.find((s) => s.typeUrl === TYPE_URL.routeConfiguration)!;
      return rds.ackedVersion === rds.sentVersion ? true : undefined;
    }, 'the routes ACKed');
  });

  it('keeps serving through a control-plane restart, reconnects, and follows updates again', async () => {
    const port = cp.port;
    const failures: unknown[] = [];
    let calls = 0;
    let running = true;
    const traffic = (async () => {
      while (running) {
        try {
          await call();
          calls++;
        } catch (err) {
          failures.push(err);
        }
      }
    })();
    try {
      await cp.close();
      await new Promise((r) => setTimeout(r, 500));
      const during = calls;
      ws.writeConfig(splitConfig(v1, v2, [100, 0]));
      cp = new ControlPlane({ configFile: ws.configFile, host: '127.0.0.1', port, logger: stderrLogger('silent'), debounceMs: 20 });
      await cp.start();
      await eventually(() => (cp.status().clients.some((c) => c.nodeId === NODE_ID) ? true : undefined), 'the client to reconnect', 60_000);
      await eventually(async () => {
        const counts = await tally(20);
        return counts.v1 === 20 ? counts : undefined;
      }, 'calls to follow the restarted control plane', 60_000);
      expect(calls).toBeGreaterThan(during);
    } finally {
      running = false;
      await traffic;
    }
    expect(failures).toEqual([]);
  });
});
