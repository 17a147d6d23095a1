/**
 * What a gRPC caller is told when the mesh, not the server, ends its call:
 * a typed error's gRPC status from the one table in errors.ts, with the
 * mesh's error code in the trailers (`mesh-error-code`) so callers can
 * tell "the mesh refused" from "the server said so".
 */
import { Metadata, type StatusObject, status } from '@grpc/grpc-js';
import { GRPC_ERROR_CODE_TRAILER, grpcStatusOf, isMeshError, MeshError } from '../errors.js';
import type { LocalReply } from './call-types.js';

export function errorStatus(err: Error): StatusObject {
  const metadata = new Metadata();
  if (isMeshError(err)) metadata.set(GRPC_ERROR_CODE_TRAILER, err.code);
  return { code: grpcStatusOf(err), details: err.message, metadata };
}

/**
 * A local reply (fault abort, fallback, redirect) carries an HTTP status;
 * gRPC's documented HTTP-to-gRPC mapping turns it into a status, unless the
 * reply names one itself in a `grpc-status` header (and its message in
 * `grpc-message`), as a gRPC fault abort does.
 */
export function statusOfReply(reply: LocalReply): StatusObject {
  const metadata = new Metadata();
  const named = Number(reply.headers?.['grpc-status']);
  const code = Number.isInteger(named) && named > 0 && named <= 16 ? named : (HTTP_TO_GRPC[reply.status] ?? status.UNKNOWN);
  const details = reply.headers?.['grpc-message'] ?? reply.body ?? `answered by the mesh with HTTP ${reply.status} (${reply.flag})`;
  return { code, details, metadata };
}

const HTTP_TO_GRPC: Readonly<Record<number, number>> = {
  400: status.INTERNAL,
  401: status.UNAUTHENTICATED,
  403: status.PERMISSION_DENIED,
  404: status.UNIMPLEMENTED,
  429: status.UNAVAILABLE,
  502: status.UNAVAILABLE,
  503: status.UNAVAILABLE,
  504: status.UNAVAILABLE,
};

/** The balancer could not connect to the endpoint the mesh picked. */
export function connectFailure(endpoint: string, details: string): MeshError {
  return new MeshError('MESH_CONNECT_FAILURE', details, { details: { endpoint } });
}
