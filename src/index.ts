// The public API. Re-exports only; nothing here runs at import time.

export type { BalancedEndpoint, Picker, PickerFactory, PickerOptions } from './balancer/types.js';
export type { Fallback, LocalReply } from './client/call-types.js';
export type { PoolSettings } from './client/upstream.js';
export { ConfigError, type ConfigIssue } from './config/config-error.js';
export type { LoadBalancerConfig, MeshConfig, MeshConfigInput, MeshSettings, ServiceConfig } from './config/schema.js';
export type { ConfigLayer, ConfigRejection, ConfigSnapshot, ConfigSourceInfo } from './config/store.js';
export { defaultMesh, meshFetch } from './default-mesh.js';
export { type DnsProviderOptions, type DnsResolver, type DnsSrvRecord, dnsProvider } from './discovery/dns.js';
export type { Endpoint, EndpointHealth, EndpointInit } from './discovery/endpoint.js';
export { makeEndpoint } from './discovery/endpoint.js';
export type {
  DiscoveryProvider,
  DiscoveryTarget,
  EndpointListener,
  EndpointWatch,
} from './discovery/source.js';
export {
  ERROR_CODES,
  GrpcStatus,
  grpcStatusOf,
  httpStatusOf,
  isMeshError,
  MeshError,
  type MeshErrorCode,
  type MeshErrorOptions,
} from './errors.js';
export { createMesh, Mesh, type MeshOptions } from './mesh.js';
export {
  type AttemptOutcome,
  builtinClassifier,
  type Classifier,
  type FailureReason,
  type Verdict,
  type VerdictClass,
} from './resilience/classifier.js';
export {
  budgetFromHeaders,
  currentDeadline,
  DEADLINE_HEADER,
  type Deadline,
  deadlineFromBudget,
  runWithDeadline,
  withDeadline,
} from './resilience/deadline-context.js';
export type { WorkloadIdentity } from './security/identity/workload-identity.js';
export {
  type InboundHandler,
  type InboundRequest,
  type InboundResponse,
  MeshServer,
  type MtlsMode,
  type Peer,
  peerOf,
  type RequestAuth,
  requestAuthOf,
} from './server/index.js';
export type { AccessLogOptions } from './telemetry/access-log.js';
export { CHANNELS } from './telemetry/events.js';
export type { MeshLogger } from './telemetry/logger.js';
export type { TelemetryOptions } from './telemetry/mesh-telemetry.js';
export type { DestinationLabels, RequestRecord, WorkloadLabels } from './telemetry/request-record.js';
export {
  B3MultiPropagator,
  B3SinglePropagator,
  BaggagePropagator,
  MeshPropagator,
  type PropagationFormat,
  parsePropagation,
  TraceContextPropagator,
  withoutTracing,
} from './telemetry/tracing/index.js';
