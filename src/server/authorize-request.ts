/**
 * The follow-up to `deferAuthorization`: the application runs the mesh's
 * JWT authentication and authorization for a request itself, once it is
 * ready (after routing, in a route's own middleware or preHandler), as the
 * Nest guard does. It is the same check the adapters run up front
 * (InboundExchange.authorize()), so a refusal is counted and published as
 * every other one is, and a request is never authorized twice: on a request
 * the mesh already authorized it resolves at once, with the path judged.
 */
import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import { MeshError } from '../errors.js';
import { exchangeOf } from './http-inbound.js';
import { refusalError } from './inbound-guard.js';

/** Node's request (what Express hands a handler is one), or a wrapper that holds it as `raw` (Fastify's request). */
export type AuthorizableRequest = IncomingMessage | Http2ServerRequest | { readonly raw: IncomingMessage | Http2ServerRequest };

/**
 * Authenticates (JWT) and authorizes the request against the mesh's
 * policies. Resolves with the normalized path the policies judged; rejects
 * with MESH_UNAUTHENTICATED (401), MESH_PERMISSION_DENIED (403) or
 * MESH_INVALID_ARGUMENT (400: a path that cannot be normalized, or a
 * request that did not go through meshExpress, meshFastify or
 * mesh.createServer, which this refuses rather than let through).
 */
export function authorizeRequest(req: AuthorizableRequest): Promise<string> {
  const raw = (req as { raw?: unknown }).raw;
  const ex = exchangeOf(req) ?? (typeof raw === 'object' && raw !== null ? exchangeOf(raw) : undefined);
  if (ex === undefined) {
    return Promise.reject(
      new MeshError('MESH_INVALID_ARGUMENT', 'authorizeRequest: the mesh did not see this request; put meshExpress, meshFastify or mesh.createServer in front of it'),
    );
  }
  return ex.authorize().catch((err: unknown) => {
    throw refusalError(err);
  });
}
