/**
 * Debian's python3-grpcio (1.51), a real xDS client we did not write, dials
 * `xds:///reviews` through our control plane: a weighted split, then an
 * update pushed by editing the YAML while the client runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlPlane } from '../../src/control/control-plane.js';
import { TYPE_URL } from '../../src/discovery/xds/envoy-protos.js';
import { stderrLogger } from '../../src/telemetry/logger.js';
import { hasPython, PythonXdsClient } from './python-xds-client.js';
import { type EchoServer, eventually, splitConfig, XdsWorkspace } from './xds-fixture.js';

const NODE_ID = 'python-grpcio-interop';

describe.skipIf(!hasPython)('python3-grpcio against the proxyless control plane', () => {
  const ws = new XdsWorkspace();
  let v1: EchoServer;
  let v2: EchoServer;
  let cp: ControlPlane;
  let python: PythonXdsClient;

  beforeAll(async () => {
    v1 = await ws.startEcho('v1');
    v2 = await ws.startEcho('v2');
    ws.writeConfig(splitConfig(v1, v2, [30, 70]));
    cp = new ControlPlane({ configFile: ws.configFile, host: '127.0.0.1', port: 0, logger: stderrLogger('silent'), debounceMs: 20 });
    const port = await cp.start();
    // Labels as Istio's agent writes them from the pod: what routes with sourceLabels are settled against.
    python = new PythonXdsClient(
      'xds:///reviews',
      ws.writeBootstrap(port, NODE_ID, { NAMESPACE: 'shop', LABELS: { app: 'productpage', track: 'canary' } }),
    );
  });

  afterAll(async () => {
    await python?.quit();
    await cp?.close();
    ws.close();
  });

  const ask = <T>(command: string) => python.ask<T>(command);

  it('resolves xds:///reviews and splits calls by the configured weights', async () => {
    const result = await ask<{ counts: Record<string, number>; errors: string[] }>('calls 300');
    expect(result.errors).toEqual([]);
    // 30/70 over 300 calls: v1 expects 90 (sd 8).
    expect((result.counts.v1 ?? 0) + (result.counts.v2 ?? 0)).toBe(300);
    expect(result.counts.v1).toBeGreaterThan(45);
    expect(result.counts.v1).toBeLessThan(140);
  });

  it('shows the python client as connected, every type acknowledged', () => {
    const me = cp.status().clients.find((c) => c.nodeId === NODE_ID);
    expect(me).toBeDefined();
    expect(me!.subscriptions.map((s) => s.typeUrl).sort()).toEqual(
      [TYPE_URL.cluster, TYPE_URL.clusterLoadAssignment, TYPE_URL.listener, TYPE_URL.routeConfiguration].sort(),
    );
    for (const sub of me!.subscriptions) {
      expect(sub.lastNack).toBeUndefined();
      expect(sub.ackedVersion).toBe(sub.sentVersion);
    }
  });

  it('follows an update pushed by editing the YAML file while it runs', async () => {
    const before = cp.snapshot.version;
    ws.writeConfig(splitConfig(v1, v2, [100, 0]));
    await eventually(() => (cp.snapshot.version !== before ? true : undefined), 'the control plane to serve the edit');
    const result = await ask<{ reached: boolean; error: string | null }>('until v1');
    expect(result).toEqual({ reached: true, error: null });
  });

  it('gets the routes its own workload (node LABELS, NAMESPACE) satisfies', async () => {
    // The canary caller's route to v2 comes after a route for another workload, and before the default to v1.
    ws.writeConfig(
      splitConfig(v1, v2, [100, 0]).replace(
        '    routes:\n',
        `    routes:
      - match: [{ sourceLabels: { app: productpage, track: stable } }, { sourceNamespace: other }]
        route: [{ destination: { subset: v1 } }]
      - match: [{ sourceLabels: { track: canary }, sourceNamespace: shop }]
        route: [{ destination: { subset: v2 } }]
`,
      ),
    );
    expect(await ask<{ reached: boolean; error: string | null }>('until v2')).toEqual({ reached: true, error: null });
    expect(await ask<{ counts: Record<string, number>; errors: string[] }>('calls 20')).toEqual({ counts: { v2: 20 }, errors: [] });
    ws.writeConfig(splitConfig(v1, v2, [100, 0]));
    expect(await ask<{ reached: boolean; error: string | null }>('until v1')).toEqual({ reached: true, error: null });
  });

  it('ACKs routes matching on method or authority (:method, :authority matchers, as istiod writes them) but never matches them', async () => {
    // gRPC C-core does not show pseudo-headers to route matching, so such a route is passed over (grpc-js matches them).
    ws.writeConfig(splitConfig(v1, v2, [0, 100]));
    expect(await ask<{ reached: boolean; error: string | null }>('until v2')).toEqual({ reached: true, error: null });
    for (const condition of ['method: POST', 'authority: { prefix: reviews }']) {
      ws.writeConfig(
        splitConfig(v1, v2, [100, 0]).replace('    routes:\n', `    routes:\n      - match: [{ ${condition} }]\n        route: [{ destination: { subset: v2 } }]\n`),
      );
      // The default route's move to v1 shows the update arrived; the route above it, which every call meets, never matched.
      expect(await ask<{ reached: boolean; error: string | null }>('until v1')).toEqual({ reached: true, error: null });
      expect(await ask<{ counts: Record<string, number>; errors: string[] }>('calls 20')).toEqual({ counts: { v1: 20 }, errors: [] });
      const rds = cp.status().clients.find((c) => c.nodeId === NODE_ID)!.subscriptions.find((s) => s.typeUrl === TYPE_URL.routeConfiguration)!;
      expect(rds.lastNack).toBeUndefined();
      ws.writeConfig(splitConfig(v1, v2, [0, 100]));
      expect(await ask<{ reached: boolean; error: string | null }>('until v2')).toEqual({ reached: true, error: null });
    }
  });

  it('accepts a route with a direct response and fails the calls it matches with UNAVAILABLE (gRFC A28)', async () => {
    ws.writeConfig(
      splitConfig(v1, v2, [100, 0]).replace('    routes:\n', '    routes:\n      - match: [{ uri: { prefix: /interop.Echo/ } }]\n        directResponse: { status: 503, body: closed }\n'),
    );
    const failed = await eventually(async () => {
      const r = await ask<{ counts: Record<string, number>; errors: string[] }>('calls 2');
      return r.errors.length === 2 ? r : undefined;
    }, 'the calls to fail');
    expect(failed.errors[0]).toMatch(/^StatusCode.UNAVAILABLE/);
    const rds = cp.status().clients.find((c) => c.nodeId === NODE_ID)!.subscriptions.find((s) => s.typeUrl === TYPE_URL.routeConfiguration)!;
    expect(rds.ackedVersion).toBe(rds.sentVersion);
    ws.writeConfig(splitConfig(v1, v2, [100, 0]));
    // Calls fail until the edit arrives: the last error seen on the way is the direct response's.
    expect((await ask<{ reached: boolean; error: string | null }>('until v1')).reached).toBe(true);
  });

  it('NACKs clusters it cannot use without breaking, then accepts the next good update', async () => {
    ws.writeConfig(splitConfig(v1, v2, [100, 0]).replace('    port: 9080\n', '    port: 9080\n    tls: { mode: mutual }\n'));
    const nack = await eventually(() => {
      const me = cp.status().clients.find((c) => c.nodeId === NODE_ID);
      return me?.subscriptions.find((s) => s.typeUrl === TYPE_URL.cluster)?.lastNack;
    }, 'python3-grpcio to NACK the reviews clusters');
    expect(nack.message).toContain('unrecognized certificate provider instance name: default');
    const still = await ask<{ counts: Record<string, number>; errors: string[] }>('calls 20');
    expect(still).toEqual({ counts: { v1: 20 }, errors: [] });
    ws.writeConfig(splitConfig(v1, v2, [0, 100]));
    expect(await ask<{ reached: boolean; error: string | null }>('until v2')).toEqual({ reached: true, error: null });
  });
});
