/**
 * The xDS half of the control plane: holds the current snapshot and the
 * connected streams, and registers the discovery services on a grpc-js
 * server: ADS (aggregated, what gRPC and Envoy use), the per-type LDS, RDS,
 * CDS and EDS services (state of the world, v3), and CSDS, which reports
 * what each connected client was sent and acknowledged.
 *
 * A new snapshot is swapped in whole and pushed to every stream; each
 * stream sends only the types whose subscribed resources changed.
 */
import * as grpc from '@grpc/grpc-js';
import { adsPackageDefinition, discoveryServicesPackageDefinition, TYPE_URL } from '../discovery/xds/envoy-protos.js';
import type { MeshLogger } from '../telemetry/logger.js';
import { clientStatusResponse } from './csds.js';
import type { ServedType, Snapshot } from './snapshot.js';
import { type ClientStatus, type DiscoveryRequest, type DiscoveryResponse, XdsStream } from './xds-stream.js';

type ServiceDefinition = grpc.ServiceDefinition;

const PER_TYPE_SERVICES: ReadonlyArray<[string, string, ServedType]> = [
  ['envoy.service.listener.v3.ListenerDiscoveryService', 'StreamListeners', TYPE_URL.listener],
  ['envoy.service.route.v3.RouteDiscoveryService', 'StreamRoutes', TYPE_URL.routeConfiguration],
  ['envoy.service.cluster.v3.ClusterDiscoveryService', 'StreamClusters', TYPE_URL.cluster],
  ['envoy.service.endpoint.v3.EndpointDiscoveryService', 'StreamEndpoints', TYPE_URL.clusterLoadAssignment],
];

export interface XdsServerOptions {
  readonly logger: MeshLogger;
  /** Sent as `control_plane.identifier` in every response. */
  readonly identifier: string;
  readonly initial: Snapshot;
}

export class XdsServer {
  readonly #streams = new Set<XdsStream>();
  readonly #logger: MeshLogger;
  readonly #identifier: string;
  #snapshot: Snapshot;
  #nextId = 1;

  constructor(options: XdsServerOptions) {
    this.#logger = options.logger;
    this.#identifier = options.identifier;
    this.#snapshot = options.initial;
  }

  get snapshot(): Snapshot {
    return this.#snapshot;
  }

  /** Swap in `snapshot` and send each client what changed for it. */
  publish(snapshot: Snapshot): void {
    const previous = this.#snapshot;
    this.#snapshot = snapshot;
    for (const stream of this.#streams) stream.push(previous);
  }

  clients(): ClientStatus[] {
    return [...this.#streams].map((s) => s.status());
  }

  /** Register ADS, the per-type services and CSDS on `server`. */
  register(server: grpc.Server): void {
    const ads = grpc.loadPackageDefinition(adsPackageDefinition()) as unknown as Record<string, unknown>;
    const perType = grpc.loadPackageDefinition(discoveryServicesPackageDefinition()) as unknown as Record<string, unknown>;
    server.addService(serviceAt(ads, 'envoy.service.discovery.v3.AggregatedDiscoveryService'), {
      StreamAggregatedResources: (call: grpc.ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>) => this.#serve(call, 'ads'),
      DeltaAggregatedResources: unimplementedStream,
    });
    for (const [path, method, type] of PER_TYPE_SERVICES) {
      server.addService(serviceAt(perType, path), {
        [method]: (call: grpc.ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>) => this.#serve(call, method, type),
        [method.replace('Stream', 'Delta')]: unimplementedStream,
        [method.replace('Stream', 'Fetch')]: unimplementedUnary,
      });
    }
    server.addService(serviceAt(perType, 'envoy.service.status.v3.ClientStatusDiscoveryService'), {
      StreamClientStatus: unimplementedStream,
      FetchClientStatus: (_call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        callback(null, clientStatusResponse(this.clients(), this.#snapshot));
      },
    });
  }

  /** End every stream; clients reconnect (to this or another control plane). */
  closeStreams(): void {
    for (const stream of this.#streams) stream.close();
    this.#streams.clear();
  }

  #serve(call: grpc.ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>, service: string, type?: ServedType): void {
    const host = {
      current: () => this.#snapshot,
      identifier: this.#identifier,
      logger: this.#logger,
    };
    const stream = new XdsStream(this.#nextId++, call, host, service, type);
    this.#streams.add(stream);
    const done = () => {
      if (!this.#streams.delete(stream)) return;
      this.#logger.info('xDS client disconnected', { node: stream.nodeId, stream: stream.id });
      stream.close();
    };
    call.on('data', (req: DiscoveryRequest) => {
      const known = stream.nodeId;
      stream.receive(req);
      if (known !== stream.nodeId) this.#logger.info('xDS client connected', { node: stream.nodeId, stream: stream.id, peer: call.getPeer() });
    });
    call.on('end', done);
    call.on('error', done);
    call.on('cancelled', done);
  }
}

function serviceAt(pkg: Record<string, unknown>, path: string): ServiceDefinition {
  let node: unknown = pkg;
  for (const part of path.split('.')) node = (node as Record<string, unknown>)[part];
  return (node as { service: ServiceDefinition }).service;
}

function unimplementedStream(call: grpc.ServerDuplexStream<unknown, unknown>): void {
  call.emit('error', { code: grpc.status.UNIMPLEMENTED, details: 'only state-of-the-world xDS is served' });
}

function unimplementedUnary(_call: unknown, callback: grpc.sendUnaryData<unknown>): void {
  callback({ code: grpc.status.UNIMPLEMENTED, details: 'use the streaming method' });
}
