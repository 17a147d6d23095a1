/**
 * A child of bench/xds-fanout.ts: holds `streams` ADS streams to the control
 * plane, each subscribing as a gRPC proxyless client does (the listener, its
 * route configuration, the clusters, their endpoints), ACKing every response.
 * Reports to the parent when every stream has its first config, and, after
 * the parent says "arm", when each stream first receives a newer route
 * configuration (epoch ms, comparable across processes on one machine).
 *
 * argv: <address> <streams> <json of {typeUrl: names[]}>
 */
import * as grpc from '@grpc/grpc-js';
import { adsPackageDefinition, TYPE_URL } from '../../src/discovery/xds/envoy-protos.js';

interface Response {
  version_info: string;
  type_url: string;
  nonce: string;
}

const [address, count, namesJson] = process.argv.slice(2) as [string, string, string];
const streams = Number(count);
const names = JSON.parse(namesJson) as Record<string, string[]>;
const send = (message: unknown) => process.send!(message);

const pkg = grpc.loadPackageDefinition(adsPackageDefinition()) as unknown as {
  envoy: { service: { discovery: { v3: { AggregatedDiscoveryService: grpc.ServiceClientConstructor } } } };
};
const Ads = pkg.envoy.service.discovery.v3.AggregatedDiscoveryService;
// One connection per client, as separate processes would have (grpc-js would otherwise share one).
const channelOptions = { 'grpc.use_local_subchannel_pool': 1 };

const types = [TYPE_URL.listener, TYPE_URL.routeConfiguration, TYPE_URL.cluster, TYPE_URL.clusterLoadAssignment];
let synced = 0;
let armed = false;
const received: number[] = [];
const routeVersionAtArm: string[] = [];
const routeVersion: string[] = [];

for (let i = 0; i < streams; i++) {
  const channel = new Ads(address, grpc.credentials.createInsecure(), channelOptions) as unknown as {
    StreamAggregatedResources(): grpc.ClientDuplexStream<unknown, Response>;
  };
  const call = channel.StreamAggregatedResources();
  const node = { id: `bench-${process.pid}-${i}`, cluster: 'bench', user_agent_name: 'grpc-node-js', client_features: ['envoy.lb.does_not_support_overprovisioning'] };
  const seen = new Set<string>();
  let counted = false;
  call.on('data', (res: Response) => {
    const at = performance.timeOrigin + performance.now();
    call.write({ node, type_url: res.type_url, resource_names: names[res.type_url] ?? [], version_info: res.version_info, response_nonce: res.nonce });
    if (res.type_url === TYPE_URL.routeConfiguration) {
      routeVersion[i] = res.version_info;
      if (armed && received[i] === undefined && res.version_info !== routeVersionAtArm[i]) {
        received[i] = at;
        if (received.filter((v) => v !== undefined).length === streams) send({ kind: 'received', at: received });
      }
    }
    seen.add(res.type_url);
    if (!counted && seen.size === types.length) {
      counted = true;
      if (++synced === streams) send({ kind: 'synced' });
    }
  });
  call.on('error', (err: Error) => send({ kind: 'error', message: err.message }));
  for (const type of types) call.write({ node, type_url: type, resource_names: names[type] ?? [] });
}

process.on('message', (message: { kind: string }) => {
  if (message.kind === 'arm') {
    armed = true;
    received.length = 0;
    for (let i = 0; i < streams; i++) routeVersionAtArm[i] = routeVersion[i] ?? '';
    send({ kind: 'armed' });
  }
});
process.on('disconnect', () => process.exit(0));
