/**
 * How a finished request marks its span: status code attributes, `error.type`
 * and the span status, by the conventions' rules. A client span is an error
 * for any HTTP status from 400 or any gRPC status but OK; a server span only
 * for 5xx and the gRPC statuses that mean the server failed, since a 404 or
 * INVALID_ARGUMENT is the caller's mistake, not the server's.
 */
import { type Span, SpanStatusCode } from '@opentelemetry/api';
import { GRPC_STATUS_NAMES } from '../../net/grpc-status-names.js';

/** How a request ended, as the pipeline knows it. */
export interface TraceResult {
  /** HTTP status; 0 or absent when no response came. */
  readonly status?: number | undefined;
  /** gRPC status, for gRPC requests. */
  readonly grpcStatus?: number | undefined;
  /** The error the request failed with, if it failed. */
  readonly error?: Error | undefined;
  /** Envoy response flags (`UH`, `URX`, …); '-' or absent for none. */
  readonly responseFlags?: string | undefined;
  /** monotonicNow() when the request ended, if the caller already read it; read at end() otherwise. */
  readonly endedAt?: number | undefined;
}

const ERROR_STATUS = { code: SpanStatusCode.ERROR } as const;

/** The gRPC statuses that are a server's failure (the RPC conventions' list). */
const GRPC_SERVER_ERRORS = new Set([2, 4, 12, 13, 14, 15]);

/**
 * A low-cardinality name for an error: its code (`MESH_CONNECT_FAILURE`,
 * `ECONNRESET`); for a gRPC status error (grpc-js's ServiceError shape: a
 * numeric `code` with string `details`), its status name (`UNAVAILABLE`), as
 * the RPC conventions ask; else its class.
 */
export function errorType(err: Error): string {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && code !== '') return code;
  if (typeof code === 'number' && typeof (err as { details?: unknown }).details === 'string') {
    return GRPC_STATUS_NAMES[code] ?? String(code);
  }
  return err.name || err.constructor?.name || 'Error';
}

/**
 * The `error.type` of a response that came (no exception): its gRPC status
 * name, or its HTTP status, when that is an error for `side`; undefined
 * when it is not one. Spans and attempt events both take it from here.
 */
export function responseErrorType(status: number | undefined, grpcStatus: number | undefined, side: 'client' | 'server'): string | undefined {
  if (grpcStatus !== undefined && grpcStatus !== 0) {
    return side === 'client' || GRPC_SERVER_ERRORS.has(grpcStatus) ? (GRPC_STATUS_NAMES[grpcStatus] ?? String(grpcStatus)) : undefined;
  }
  return status !== undefined && status >= (side === 'client' ? 400 : 500) ? String(status) : undefined;
}

/** Marks `span` with how the request ended; does not end it. */
export function markOutcome(span: Span, result: TraceResult, side: 'client' | 'server'): void {
  const { status, grpcStatus, error, responseFlags } = result;
  if (status !== undefined && status > 0) span.setAttribute('http.response.status_code', status);
  if (responseFlags !== undefined && responseFlags !== '-') span.setAttribute('proxyless.response_flags', responseFlags);
  const type = error !== undefined ? errorType(error) : responseErrorType(status, grpcStatus, side);
  if (grpcStatus !== undefined) span.setAttribute('rpc.grpc.status_code', grpcStatus);
  if (type === undefined) return;
  span.setAttribute('error.type', type);
  // The conventions leave the description empty for a status code; an exception has a message worth keeping.
  span.setStatus(error === undefined ? ERROR_STATUS : { code: SpanStatusCode.ERROR, message: error.message });
}
