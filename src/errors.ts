/**
 * Typed errors with stable codes.
 *
 * One table maps every code to its HTTP status, gRPC status, Envoy-style
 * response flag and retryability, so the HTTP and gRPC adapters, the access
 * log and metrics all agree. docs/errors.md lists the same codes; a test keeps
 * the two in step.
 */

/**
 * The gRPC trailer that carries a MeshError's code, on both sides: a mesh
 * client's call the mesh ended, and a mesh server's answer to a handler's
 * MeshError. The status alone cannot tell "circuit open" from "no endpoint".
 */
export const GRPC_ERROR_CODE_TRAILER = 'mesh-error-code';

/** gRPC status codes used by the table (numeric values from the gRPC spec). */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  UNIMPLEMENTED: 12,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

interface CodeSpec {
  readonly httpStatus: number;
  readonly grpcStatus: number;
  /** Envoy response flag for access logs and metrics ('-' when none applies). */
  readonly responseFlag: string;
  /** True when another attempt, possibly on another endpoint, may succeed. */
  readonly retryable: boolean;
  readonly summary: string;
}

function spec(
  httpStatus: number,
  grpcStatus: number,
  responseFlag: string,
  retryable: boolean,
  summary: string,
): CodeSpec {
  return { httpStatus, grpcStatus, responseFlag, retryable, summary };
}

export const ERROR_CODES = {
  MESH_CONFIG_INVALID: spec(
    500,
    GrpcStatus.INVALID_ARGUMENT,
    '-',
    false,
    'Configuration was rejected by validation; the previous good configuration stays in force.',
  ),
  MESH_INVALID_ARGUMENT: spec(
    400,
    GrpcStatus.INVALID_ARGUMENT,
    '-',
    false,
    'A call into the mesh API had an argument it cannot use (for example a URL that does not parse).',
  ),
  MESH_NO_HEALTHY_UPSTREAM: spec(
    503,
    GrpcStatus.UNAVAILABLE,
    'UH',
    true,
    'The destination service is known but has no endpoint that can take the request.',
  ),
  MESH_CONNECT_FAILURE: spec(
    503,
    GrpcStatus.UNAVAILABLE,
    'UF',
    true,
    'Opening a connection to the picked endpoint failed (refused, unreachable, TLS handshake, connect timeout).',
  ),
  MESH_UPSTREAM_RESET: spec(
    503,
    GrpcStatus.UNAVAILABLE,
    'UR',
    true,
    'The endpoint closed or reset the connection before the response completed.',
  ),
  MESH_DISCOVERY_FAILED: spec(
    503,
    GrpcStatus.UNAVAILABLE,
    'NR',
    true,
    'Endpoint discovery for the destination failed; the last good endpoint set, if any, keeps serving.',
  ),
  MESH_DISCOVERY_FORBIDDEN: spec(
    503,
    GrpcStatus.UNAVAILABLE,
    'NR',
    false,
    'The discovery source refused access (Kubernetes RBAC forbids listing or watching EndpointSlices); the last good endpoints keep serving.',
  ),
  MESH_ABORTED: spec(
    499,
    GrpcStatus.CANCELLED,
    'DC',
    false,
    'The caller aborted the request (AbortSignal or closed downstream).',
  ),
  MESH_NO_ROUTE: spec(
    404,
    GrpcStatus.UNIMPLEMENTED,
    'NR',
    false,
    'The destination has routes, and none of them matches the request.',
  ),
  MESH_DEADLINE_EXCEEDED: spec(
    504,
    GrpcStatus.DEADLINE_EXCEEDED,
    'UT',
    false,
    'The call ran out of time: its own timeout, or the deadline it inherited from the inbound request.',
  ),
  MESH_ATTEMPT_TIMEOUT: spec(
    504,
    GrpcStatus.DEADLINE_EXCEEDED,
    'UT',
    true,
    'One attempt exceeded its per-try timeout and no retry was allowed or left.',
  ),
  MESH_RETRY_BUDGET_EXHAUSTED: spec(
    503,
    GrpcStatus.UNAVAILABLE,
    'URX',
    false,
    'An attempt failed and a retry was due, but the destination\'s retry budget had no room for it.',
  ),
  MESH_CIRCUIT_OPEN: spec(
    503,
    GrpcStatus.UNAVAILABLE,
    'UO',
    false,
    'The destination\'s circuit breaker is open after too many failures; calls fail fast until it half-opens.',
  ),
  MESH_OVERFLOW: spec(
    503,
    GrpcStatus.UNAVAILABLE,
    'UO',
    false,
    'A connection-pool limit (pending requests, active requests or active retries) for the destination is full.',
  ),
  MESH_RATE_LIMITED: spec(
    429,
    GrpcStatus.RESOURCE_EXHAUSTED,
    'RL',
    false,
    'The local rate limit (token bucket) for the route or destination has no token for this request.',
  ),
  MESH_UNAUTHENTICATED: spec(
    401,
    GrpcStatus.UNAUTHENTICATED,
    '-',
    false,
    'A credential on the request (a JWT) is present but invalid: bad signature, expired, wrong issuer or audience, malformed.',
  ),
  MESH_PERMISSION_DENIED: spec(
    403,
    GrpcStatus.PERMISSION_DENIED,
    '-',
    false,
    'An authorization policy denied the request, or no ALLOW policy matched it where ALLOW policies apply.',
  ),
  MESH_PEER_VERIFICATION_FAILED: spec(
    503,
    GrpcStatus.UNAVAILABLE,
    'UF',
    true,
    'The TLS peer\'s certificate verified, but it carries another SPIFFE ID than the destination expects (or none).',
  ),
  MESH_CERTIFICATE_INVALID: spec(
    500,
    GrpcStatus.INTERNAL,
    '-',
    false,
    'Certificate or key material could not be used: malformed PEM, a broken chain, expired, or outside the trust domain.',
  ),
  MESH_CERTIFICATE_REFUSED: spec(
    500,
    GrpcStatus.INTERNAL,
    '-',
    false,
    'The control plane\'s CA refused to issue or renew this workload\'s certificate: unknown bootstrap token, identity not granted, or a current certificate it did not issue.',
  ),
  MESH_OVERLOADED: spec(
    503,
    GrpcStatus.UNAVAILABLE,
    'OM',
    true,
    'An inbound request was shed before its handler ran: the server is at its concurrency limit or its event loop is running late.',
  ),
  MESH_CLOSED: spec(
    503,
    GrpcStatus.UNAVAILABLE,
    '-',
    false,
    'The mesh was closed or destroyed; it accepts no new requests.',
  ),
} as const satisfies Record<string, CodeSpec>;

export type MeshErrorCode = keyof typeof ERROR_CODES;

const BRAND: unique symbol = Symbol.for('proxyless.MeshError') as never;

export interface MeshErrorOptions {
  cause?: unknown;
  /** Override the table's retryability for this instance. */
  retryable?: boolean;
  /** Structured context (service, endpoint, path); never secrets. */
  details?: Readonly<Record<string, unknown>>;
}

/**
 * Base class for every error the mesh raises. Check with `isMeshError()`
 * rather than `instanceof`: two copies of the package in one process have two
 * classes but share the `Symbol.for` brand.
 */
export class MeshError extends Error {
  readonly [BRAND] = true;
  readonly code: MeshErrorCode;
  readonly retryable: boolean;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: MeshErrorCode, message: string, options: MeshErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MeshError';
    this.code = code;
    this.retryable = options.retryable ?? ERROR_CODES[code].retryable;
    this.details = options.details;
  }

  get httpStatus(): number {
    return ERROR_CODES[this.code].httpStatus;
  }

  /**
   * The same as httpStatus, under the name Express's and Fastify's default
   * error handlers read, so a mesh error thrown in a handler gets its status.
   */
  get statusCode(): number {
    return ERROR_CODES[this.code].httpStatus;
  }

  get grpcStatus(): number {
    return ERROR_CODES[this.code].grpcStatus;
  }

  get responseFlag(): string {
    return ERROR_CODES[this.code].responseFlag;
  }
}

export function isMeshError(value: unknown): value is MeshError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}

/** HTTP status for any thrown value: the table's for mesh errors, 500 otherwise. */
export function httpStatusOf(err: unknown): number {
  return isMeshError(err) ? ERROR_CODES[err.code].httpStatus : 500;
}

/** gRPC status for any thrown value: the table's for mesh errors, UNKNOWN otherwise. */
export function grpcStatusOf(err: unknown): number {
  return isMeshError(err) ? ERROR_CODES[err.code].grpcStatus : GrpcStatus.UNKNOWN;
}
