// The public API. Re-exports only; nothing here runs at import time.

export type { BalancedEndpoint, Picker, PickerFactory, PickerOptions } from './balancer/types.js';
export type { Fallback, LocalReply } from './client/call-types.js';
export type { GrpcClientConstructor, GrpcClientOptions } from './client/grpc-client.js';
export type { GrpcMethodTable } from './client/grpc-methods.js';
export type { PoolSettings } from './client/upstream.js';
export { ConfigError, type ConfigIssue } from './config/config-error.js';
export type { InboundSettings, InboundSettingsInput } from './config/inbound-schema.js';
export type { LoadBalancerConfig, MeshConfig, MeshConfigInput, MeshSettings, ServiceConfig } from './config/schema.js';
export type { ConfigLayer, ConfigRejection, ConfigSnapshot, ConfigSourceInfo, ConfigStore, SnapshotListener } from './config/store.js';
export { type CaAuthenticator, caAuthenticator, type TokenGrant } from './control/ca-auth.js';
export { type CertificateRequestOptions, type ObtainedCertificate, requestWorkloadCertificate } from './control/ca-client.js';
export type { ConfigInput, ConfigInputSink } from './control/config-input.js';
export { ControlPlane, type ControlPlaneOptions, type ControlPlaneStatus, type RejectedEdit } from './control/control-plane.js';
export type { NackRecord, SubscriptionStatus } from './control/subscription.js';
export type { ClientStatus } from './control/xds-stream.js';
export { defaultMesh, meshFetch } from './default-mesh.js';
export { type DnsProviderOptions, type DnsResolver, type DnsSrvRecord, dnsProvider } from './discovery/dns.js';
export type { Endpoint, EndpointHealth, EndpointInit } from './discovery/endpoint.js';
export { makeEndpoint } from './discovery/endpoint.js';
export type { ClusterConfigOptions } from './discovery/kubernetes/cluster-config.js';
export type { ZoneInfo, ZoneSource } from './discovery/kubernetes/local-zone.js';
export { type KubernetesProvider, type KubernetesProviderOptions, kubernetesProvider } from './discovery/kubernetes/provider.js';
export type {
  DiscoveryProvider,
  DiscoveryTarget,
  EndpointListener,
  EndpointWatch,
} from './discovery/source.js';
export {
  bootstrapFromEnv,
  type CertificateProviderConfig,
  type ChannelCreds,
  parseBootstrap,
  type XdsBootstrap,
  type XdsNode,
} from './discovery/xds/bootstrap.js';
export type { XdsOptions } from './discovery/xds/start-client.js';
export type { ResourceKind } from './discovery/xds/type-state.js';
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
export type { Registry } from './registry.js';
export type { BackoffConfig } from './resilience/backoff.js';
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
export type { AuthorizationPolicy, AuthzAction, AuthzCondition, AuthzOperation, AuthzRule, AuthzSource } from './security/authz/model.js';
export type { CaMaterial, CertificateAuthority, CsrSigningOptions, IntermediateOptions, IssuedCertificate } from './security/certs/ca.js';
export type { CsrRequest } from './security/certs/csr.js';
export type { WorkloadCertificate } from './security/certs/workload-certificate.js';
export type { SpiffeId } from './security/identity/spiffe.js';
export type { WorkloadIdentity } from './security/identity/workload-identity.js';
export type { ClaimToHeader, HeaderLocation, JwtRule, RequestAuthenticationPolicy } from './security/jwt/model.js';
export type { ExpressErrorHandler, ExpressNext, ExpressRequestLike, MeshExpressOptions } from './server/adapters/express.js';
export type { FastifyInstanceLike, FastifyReplyLike, FastifyRequestLike, MeshFastifyOptions } from './server/adapters/fastify.js';
export { type AuthorizableRequest, authorizeRequest } from './server/authorize-request.js';
export type { Drainable } from './server/drain.js';
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
export type { CreateServerOptions, Http1Handler, MeshServerOptions, ServerTlsSource } from './server/mesh-server.js';
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
