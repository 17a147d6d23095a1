/**
 * Two xDS clients we did not write, `@grpc/grpc-js-xds` and Debian's
 * python3-grpcio, get their endpoints ordered for their own locality and
 * labels by our control plane (per-client EDS priorities, as istiod writes
 * them). They keep calls in their zone, and when real servers go down they
 * fail over through their region to the region `failover` names, not to
 * any other. Under `failoverPriority`, one locality spread over two
 * priorities is accepted; under `distribute`, calls follow the written
 * split (locality weights) and never reach a locality it leaves out.
 */
import { createRequire } from 'node:module';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlPlane } from '../../src/control/control-plane.js';
import { TYPE_URL } from '../../src/discovery/xds/envoy-protos.js';
import { stderrLogger } from '../../src/telemetry/logger.js';
import { hasPython, PythonXdsClient } from './python-xds-client.js';
import { type EchoClient, type EchoServer, eventually, XdsWorkspace } from './xds-fixture.js';

const CLIENT = { region: 'east', zone: 'east-b' };
const LABELS = { net: 'n1' };

describe('real gRPC clients fail over by the priorities our control plane orders for them', () => {
  const ws = new XdsWorkspace();
  const servers: Record<string, EchoServer> = {};
  /** Each server's region, zone and net label. */
  const PLACES: Record<string, [string, string, string]> = {
    'east-a': ['east', 'east-a', 'n1'],
    'east-a2': ['east', 'east-a', 'n2'],
    'east-b': ['east', 'east-b', 'n2'],
    west: ['west', 'west-a', 'n2'],
    north: ['north', 'north-a', 'n2'],
  };
  let cp: ControlPlane;
  let client: EchoClient;
  let python: PythonXdsClient | undefined;

  const config = (lb: string) => `services:
  reviews:
    port: 9080
    loadBalancer: { policy: round-robin, ${lb} }
    endpoints:
${Object.entries(servers)
  .map(([name, s]) => {
    const [region, zone, net] = PLACES[name]!;
    return `      - { address: 127.0.0.1, port: ${s.port}, region: ${region}, zone: ${zone}, labels: { net: ${net} } }`;
  })
  .join('\n')}
`;

  beforeAll(async () => {
    for (const name of Object.keys(PLACES)) servers[name] = await ws.startEcho(name);
    ws.writeConfig(config('failoverPriority: [net]'));
    cp = new ControlPlane({ configFile: ws.configFile, host: '127.0.0.1', port: 0, logger: stderrLogger('silent'), debounceMs: 20 });
    const port = await cp.start();
    process.env.GRPC_XDS_BOOTSTRAP_CONFIG = ws.bootstrap(port, 'grpc-js', { LABELS }, CLIENT);
    createRequire(import.meta.url)('@grpc/grpc-js-xds').register();
    const Echo = ws.echoPackage().Echo as grpc.ServiceClientConstructor;
    client = new Echo('xds:///reviews', grpc.credentials.createInsecure()) as unknown as EchoClient;
    if (hasPython) python = new PythonXdsClient('xds:///reviews', ws.writeBootstrap(port, 'python', { LABELS }, CLIENT));
  });

  afterAll(async () => {
    client?.close();
    await python?.quit();
    await cp?.close();
    ws.close();
  });

  const call = () =>
    new Promise<string>((resolve, reject) =>
      client.Call({ text: 'hi' }, { deadline: Date.now() + 10_000 }, (err, reply) => (err ? reject(err) : resolve(reply!.server))),
    );

  async function tally(n: number): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (let i = 0; i < n; i++) {
      const server = await call().catch((err: grpc.ServiceError) => `error: ${err.details}`);
      counts[server] = (counts[server] ?? 0) + 1;
    }
    return counts;
  }

  /** Both clients send every call to `server`, having got there within 30 s. */
  async function bothReach(server: string): Promise<void> {
    await eventually(async () => ((await tally(20))[server] === 20 ? true : undefined), `grpc-js calls to go to ${server}`);
    expect(await tally(30)).toEqual({ [server]: 30 });
    if (python === undefined) return;
    expect(await python.until(server)).toEqual({ reached: true, error: null });
    expect(await python.calls(30)).toEqual({ counts: { [server]: 30 }, errors: [] });
  }

  function endpointsAcked(node: string): void {
    const eds = cp.status().clients.find((c) => c.nodeId === node)?.subscriptions.find((s) => s.typeUrl === TYPE_URL.clusterLoadAssignment);
    expect(eds, node).toBeDefined();
    expect(eds!.lastNack, node).toBeUndefined();
    expect(eds!.ackedVersion, node).toBe(eds!.sentVersion);
  }

  it('failoverPriority: calls go only to the endpoint sharing the client label, with its locality split over two priorities', async () => {
    await bothReach('east-a');
    endpointsAcked('grpc-js');
    if (python !== undefined) endpointsAcked('python');
    const me = cp.status().clients.find((c) => c.nodeId === 'grpc-js');
    expect(me?.locality).toEqual(CLIENT);
    expect(me?.labels).toEqual(LABELS);
  });

  it('distribute: calls follow the written split the client rule gives, and no call reaches a locality it leaves out', async () => {
    ws.writeConfig(config(`distribute: [{ from: east/east-b, to: { 'east/east-b': 75, north: 25 } }]`));
    await eventually(async () => {
      const counts = await tally(40);
      return counts['east-b'] !== undefined && counts.north !== undefined && Object.keys(counts).length === 2 ? true : undefined;
    }, 'grpc-js calls to follow the split');
    // 75% of 400 is 300 (sd 8.7).
    const counts = await tally(400);
    expect(Object.keys(counts).sort(), JSON.stringify(counts)).toEqual(['east-b', 'north']);
    expect(counts['east-b']).toBeGreaterThan(260);
    expect(counts['east-b']).toBeLessThan(340);
    endpointsAcked('grpc-js');
    if (python === undefined) return;
    const client = python;
    await eventually(async () => {
      const { counts: seen } = await client.calls(40);
      return Object.keys(seen).sort().join() === 'east-b,north' ? true : undefined;
    }, 'python3-grpcio calls to follow the split');
    const py = await python.calls(400);
    expect(py.errors).toEqual([]);
    expect(Object.keys(py.counts).sort()).toEqual(['east-b', 'north']);
    expect(py.counts['east-b']).toBeGreaterThan(260);
    expect(py.counts['east-b']).toBeLessThan(340);
    endpointsAcked('python');
  });

  it('locality: calls stay in the client zone, then its region, then the failover region, as servers go down', async () => {
    // east-a2 only served the labels case; it is down here, so "the rest of the region" is east-a alone.
    servers['east-a2']!.server.forceShutdown();
    ws.writeConfig(config('failover: [{ from: east, to: north }]'));
    await bothReach('east-b');
    endpointsAcked('grpc-js');

    // Down for real: the clients see their connections fail, not a config change.
    servers['east-b']!.server.forceShutdown();
    await bothReach('east-a');
    servers['east-a']!.server.forceShutdown();
    // west is healthy and nearer in the written list, but north is where east fails over.
    await bothReach('north');
  });
});
