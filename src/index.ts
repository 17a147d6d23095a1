// The public API. Re-exports only; nothing here runs at import time.

export type { BalancedEndpoint, Picker, PickerFactory, PickerOptions } from './balancer/types.js';
export type { Fallback, LocalReply } from './client/call-types.js';
export type { GrpcClientConstructor, GrpcClientOptions } from './client/grpc-client.js';
export type { PoolSettings } from './client/upstream.js';
export { ConfigError, type ConfigIssue } from './config/config-error.js';
export type { InboundSettingsInput } from './config/inbound-schema.js';
export type { LoadBalancerConfig, MeshConfig, MeshConfigInput, MeshSettings, ServiceConfig } from './config/schema.js';
export type { ConfigLayer, ConfigRejection, ConfigSnapshot, ConfigSourceInfo } from './config/store.js';
export { type CaAuthenticator, caAuthenticator, type TokenGrant } from './control/ca-auth.js';
export { type CertificateRequestOptions, type ObtainedCertificate, requestWorkloadCertificate } from './control/ca-client.js';
export { ControlPlane, type ControlPlaneOptions, type ControlPlaneStatus } from './control/control-plane.js';
export { defaultMesh, meshFetch } from './default-mesh.js';
export { type DnsProviderOptions, type DnsResolver, type DnsSrvRecord, dnsProvider } from './discovery/dns.js';
export type { Endpoint, EndpointHealth, EndpointInit } from './discovery/endpoint.js';
export { makeEndpoint } from './discovery/endpoint.js';
export { type KubernetesProviderOptions, kubernetesProvider } from './discovery/kubernetes/provider.js';
export type {
  DiscoveryProvider,
  DiscoveryTarget,
  EndpointListener,
  EndpointWatch,
} from './discovery/source.js';
export { bootstrapFromEnv, parseBootstrap, type XdsBootstrap } from './discovery/xds/bootstrap.js';
export type { XdsOptions } from './discovery/xds/start-client.js';
export type { XdsStatus, XdsTypeStatus } from './discovery/xds/xds-status.js';
export {
  ERROR_CODES,
  GRPC_ERROR_CODE_TRAILER,
  GrpcStatus,
  grpcStatusOf,
  httpStatusOf,
  isMeshError,
  MeshError,
  type MeshErrorCode,
  type MeshErrorOptions,
} from './errors.js';
export { createMesh, Mesh, type MeshOptions } from './mesh.js';
export type { MeshGrpc } from './mesh-grpc.js';
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
export { MeshGrpcServer, type MeshGrpcServerOptions } from './server/grpc/mesh-grpc-server.js';
export {
  Authorize,
  type AuthorizeOptions,
  Idempotent,
  type MeshGrpcDecorator,
  RateLimit,
  type RateLimitOptions,
  Timeout,
} from './server/grpc/method-decorators.js';
export {
  type ExpressMiddleware,
  expressRoute,
  type FastifyPluginLike,
  fastifyRoute,
  type InboundHandler,
  type InboundOwner,
  type InboundRequest,
  type InboundResponse,
  MeshInbound,
  type MeshRequestContext,
  MeshServer,
  type MtlsMode,
  meshContextOf,
  meshExpress,
  meshExpressErrors,
  meshFastify,
  meshHttpOptions,
  type NodeServerLike,
  type Peer,
  peerOf,
  type RequestAuth,
  requestAuthOf,
  UNMATCHED_ROUTE,
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
