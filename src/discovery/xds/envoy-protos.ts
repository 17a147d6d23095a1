/**
 * Envoy's xDS protos, loaded at run time from the `deps/` folders that
 * `@grpc/grpc-js-xds` ships, so none of them is copied into this repo.
 *
 * Loading parses a few hundred .proto files (about 100 ms), so it happens on
 * first use, never at import time, and once per process.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import type { PackageDefinition } from '@grpc/proto-loader';
import { loadSync } from '@grpc/proto-loader';
import protobuf from 'protobufjs';

/** The resource types the mesh reads and serves over ADS. */
export const TYPE_URL = {
  listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  routeConfiguration: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  clusterLoadAssignment: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  httpConnectionManager:
    'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
} as const;

const RESOURCE_FILES = [
  'envoy/service/discovery/v3/ads.proto',
  'envoy/config/listener/v3/listener.proto',
  'envoy/config/route/v3/route.proto',
  'envoy/config/cluster/v3/cluster.proto',
  'envoy/config/endpoint/v3/endpoint.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  'envoy/extensions/filters/http/fault/v3/fault.proto',
  'envoy/extensions/filters/http/rbac/v3/rbac.proto',
  'envoy/extensions/filters/http/jwt_authn/v3/config.proto',
  'envoy/extensions/path/match/uri_template/v3/uri_template_match.proto',
  'envoy/extensions/transport_sockets/tls/v3/tls.proto',
  'envoy/extensions/load_balancing_policies/round_robin/v3/round_robin.proto',
  'envoy/extensions/load_balancing_policies/least_request/v3/least_request.proto',
  'envoy/extensions/load_balancing_policies/ring_hash/v3/ring_hash.proto',
  'envoy/extensions/load_balancing_policies/maglev/v3/maglev.proto',
  'envoy/extensions/load_balancing_policies/wrr_locality/v3/wrr_locality.proto',
  'envoy/extensions/load_balancing_policies/pick_first/v3/pick_first.proto',
  'envoy/extensions/clusters/aggregate/v3/cluster.proto',
  'envoy/extensions/upstreams/http/v3/http_protocol_options.proto',
  'xds/type/v3/typed_struct.proto',
  'udpa/type/v1/typed_struct.proto',
];

function includeDirs(): string[] {
  const require = createRequire(import.meta.url);
  const root = path.dirname(require.resolve('@grpc/grpc-js-xds/package.json'));
  return ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) => path.join(root, 'deps', d));
}

let root: protobuf.Root | undefined;
let ads: PackageDefinition | undefined;

/** One protobufjs Root holding every resource type above, for `Any` packing. */
export function envoyRoot(): protobuf.Root {
  if (root) return root;
  const dirs = includeDirs();
  const r = new protobuf.Root();
  r.resolvePath = (_origin, target) => {
    if (path.isAbsolute(target)) return target;
    for (const dir of dirs) {
      const candidate = path.join(dir, target);
      if (protobufFileExists(candidate)) return candidate;
    }
    return target;
  };
  r.loadSync(RESOURCE_FILES, { keepCase: true });
  r.resolveAll();
  root = r;
  return r;
}

/** The ADS service definition for grpc-js (client stub or server handler). */
export function adsPackageDefinition(): PackageDefinition {
  ads ??= loadSync('envoy/service/discovery/v3/ads.proto', {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
    includeDirs: includeDirs(),
  });
  return ads;
}

let perType: PackageDefinition | undefined;

/**
 * The non-aggregated discovery services (LDS, RDS, CDS, EDS) and CSDS, for
 * the control plane, which answers them beside ADS.
 */
export function discoveryServicesPackageDefinition(): PackageDefinition {
  perType ??= loadSync(
    [
      'envoy/service/listener/v3/lds.proto',
      'envoy/service/route/v3/rds.proto',
      'envoy/service/cluster/v3/cds.proto',
      'envoy/service/endpoint/v3/eds.proto',
      'envoy/service/status/v3/csds.proto',
    ],
    { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true, includeDirs: includeDirs() },
  );
  return perType;
}

/** Plain-object options every decode uses: enums as names, 64-bit ints as strings. */
export const TO_OBJECT: protobuf.IConversionOptions = {
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

/** A message type by its full name, e.g. `envoy.config.cluster.v3.Cluster`. */
export function messageType(fullName: string): protobuf.Type {
  return envoyRoot().lookupType(fullName);
}

export function typeNameOf(typeUrl: string): string {
  return typeUrl.slice(typeUrl.lastIndexOf('/') + 1);
}

/** Decode an `Any`'s bytes into a plain object of its declared type. */
export function unpackAny(typeUrl: string, value: Uint8Array): Record<string, unknown> {
  const type = messageType(typeNameOf(typeUrl));
  return type.toObject(type.decode(value), TO_OBJECT) as Record<string, unknown>;
}

/** Encode a plain object as an `Any` of the given type; throws when a field does not fit. */
export function packAny(typeUrl: string, object: Record<string, unknown>): { type_url: string; value: Buffer } {
  const type = messageType(typeNameOf(typeUrl));
  // fromObject takes enum names and drops unknown fields; verify then checks what is left.
  const message = type.fromObject(object);
  const problem = type.verify(message);
  if (problem) throw new TypeError(`${typeNameOf(typeUrl)}: ${problem}`);
  return { type_url: typeUrl, value: Buffer.from(type.encode(message).finish()) };
}

function protobufFileExists(file: string): boolean {
  try {
    return protobuf.util.fs?.statSync?.(file).isFile() ?? false;
  } catch {
    return false;
  }
}
