/**
 * Shared pieces of the xDS interop tests: a tiny echo gRPC service (our own
 * inline .proto), real grpc-js servers on port 0 that answer with their
 * name, a mesh.yaml the tests rewrite, and a gRPC xDS bootstrap pointing at
 * the control plane.
 */
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

const ECHO_PROTO = `
syntax = "proto3";
package interop;
service Echo { rpc Call (EchoRequest) returns (EchoReply); }
message EchoRequest { string text = 1; }
message EchoReply { string server = 1; string text = 2; }
`;

export interface EchoServer {
  readonly name: string;
  readonly port: number;
  readonly server: grpc.Server;
}

export type EchoClient = grpc.Client & {
  Call(req: { text: string }, options: grpc.CallOptions, cb: (err: grpc.ServiceError | null, reply?: { server: string }) => void): void;
  Call(
    req: { text: string },
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    cb: (err: grpc.ServiceError | null, reply?: { server: string }) => void,
  ): void;
};

export interface Locality {
  readonly region?: string;
  readonly zone?: string;
}

export class XdsWorkspace {
  readonly dir = mkdtempSync(join(tmpdir(), 'proxyless-xds-'));
  readonly configFile = join(this.dir, 'mesh.yaml');
  readonly #servers: EchoServer[] = [];
  #echo: grpc.GrpcObject | undefined;

  echoPackage(): grpc.GrpcObject {
    if (this.#echo) return this.#echo;
    const file = join(this.dir, 'echo.proto');
    writeFileSync(file, ECHO_PROTO);
    this.#echo = grpc.loadPackageDefinition(loadSync(file, { keepCase: true })).interop as grpc.GrpcObject;
    return this.#echo;
  }

  async startEcho(name: string): Promise<EchoServer> {
    const server = new grpc.Server();
    const service = (this.echoPackage().Echo as grpc.ServiceClientConstructor).service;
    server.addService(service, {
      Call: (call: grpc.ServerUnaryCall<{ text: string }, unknown>, cb: grpc.sendUnaryData<unknown>) =>
        cb(null, { server: name, text: call.request.text }),
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    const started = { name, port, server };
    this.#servers.push(started);
    return started;
  }

  /** Replace the config file the way editors do (write aside, rename over). */
  writeConfig(text: string): void {
    const aside = `${this.configFile}.tmp`;
    writeFileSync(aside, text);
    renameSync(aside, this.configFile);
  }

  /** gRPC's bootstrap format, as istiod's agent writes it; `metadata` as its NAMESPACE and LABELS, `locality` its node's. */
  bootstrap(controlPlanePort: number, nodeId: string, metadata?: Record<string, unknown>, locality: Locality = {}): string {
    return JSON.stringify({
      xds_servers: [{ server_uri: `127.0.0.1:${controlPlanePort}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
      node: { id: nodeId, cluster: 'interop', locality, ...(metadata !== undefined ? { metadata } : {}) },
    });
  }

  writeBootstrap(controlPlanePort: number, nodeId: string, metadata?: Record<string, unknown>, locality?: Locality): string {
    const file = join(this.dir, `bootstrap-${nodeId}.json`);
    writeFileSync(file, this.bootstrap(controlPlanePort, nodeId, metadata, locality));
    return file;
  }

  close(): void {
    for (const s of this.#servers) s.server.forceShutdown();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A mesh.yaml with `reviews` split between a v1 and a v2 server by weight. */
export function splitConfig(v1: EchoServer, v2: EchoServer, weights: [number, number], extra = ''): string {
  // connectionPool's HTTP options travel in typed_extension_protocol_options, where istiod writes them, and warmup in
  // round_robin_lb_config.slow_start_config: real clients must accept both (they ramp nothing; every endpoint is there from the start).
  return `mesh:
  loadBalancer: { policy: round-robin, warmup: { duration: 30s, minimumPercent: 20 } }
  connectionPool: { idleTimeout: 60s, maxRequestsPerConnection: 1000 }
services:
  reviews:
    port: 9080
    endpoints:
      - { address: 127.0.0.1, port: ${v1.port}, labels: { version: v1 } }
      - { address: 127.0.0.1, port: ${v2.port}, labels: { version: v2 } }
    subsets:
      v1: { labels: { version: v1 } }
      v2: { labels: { version: v2 } }
    routes:
      - route:
          - { destination: { subset: v1 }, weight: ${weights[0]} }
          - { destination: { subset: v2 }, weight: ${weights[1]} }
${extra}`;
}

/** Poll until `check` holds; generous, for a loaded 2-core machine. */
export async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}
