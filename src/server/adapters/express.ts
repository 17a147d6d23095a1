/**
 * Express middleware: `app.use(meshExpress(mesh))`, first. Every request
 * then goes through the mesh's inbound pipeline (load shedding, span,
 * deadline, JWT, authorization, metrics); handlers read the caller as
 * `req.mesh` (peer identity and JWT claims), and the route template
 * Express matched (`req.baseUrl` + `req.route.path`) labels the metrics.
 *
 * Express is never imported: the types below are the structural subset
 * this file uses, so the adapter can be exported from the main entry point.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isMeshError } from '../../errors.js';
import type { NodeServerLike } from '../drain.js';
import { answer, type ServeOptions, serveHttp } from '../http-inbound.js';
import type { MeshRequestContext } from '../inbound-exchange.js';
import { HOOKED, hookResponsePrototype } from '../request-slots.js';
import { UNMATCHED_ROUTE } from '../route-metrics.js';
import type { InboundOwner } from './mesh-like.js';

// `req.mesh` in Express's own Request type (@types/express reads this global namespace; without it, nothing changes).
declare global {
  namespace Express {
    interface Request {
      /** The caller as the mesh verified it; set by meshExpress() before any handler runs. */
      mesh?: MeshRequestContext;
    }
  }
}

/** The parts of Express's `req` this adapter reads and writes. */
export interface ExpressRequestLike extends IncomingMessage {
  mesh?: MeshRequestContext;
  baseUrl?: string;
  route?: { path?: unknown } | undefined;
}

export type ExpressNext = (err?: unknown) => void;
export type ExpressMiddleware = (req: IncomingMessage, res: ServerResponse, next: ExpressNext) => void;
export type ExpressErrorHandler = (err: unknown, req: IncomingMessage, res: ServerResponse, next: ExpressNext) => void;

/** The route template Express matched, or undefined (no route: a 404, or a plain middleware answered). */
export function expressRoute(req: ExpressRequestLike): string | undefined {
  const path = req.route?.path;
  if (typeof path !== 'string') return path instanceof RegExp ? `${req.baseUrl ?? ''}${String(path)}` : undefined;
  const base = req.baseUrl ?? '';
  if (path === '/' && base !== '') return base;
  return `${base}${path}`;
}

export interface MeshExpressOptions {
  /**
   * Skip authentication and authorization in the middleware: the
   * application runs them later with `authorizeRequest(req)` (the Nest
   * guard runs the same check); default false.
   */
  readonly deferAuthorization?: boolean;
}

export function meshExpress(mesh: InboundOwner, options: MeshExpressOptions = {}): ExpressMiddleware {
  const inbound = mesh.inbound;
  const pipeline = inbound.pipeline;
  const serve: ServeOptions<ExpressNext> = { routeOf: routeOrUnmatched, deferAuthorization: options.deferAuthorization };
  let attached: unknown;
  return (req, res, next) => {
    // The server Express listens on, so a drain can close it (app.listen() never tells us).
    const server = (req.socket as { server?: NodeServerLike }).server;
    if (server !== undefined && server !== attached) {
      attached = server;
      inbound.attach(server);
    }
    // Express gives each app's responses their own prototype: hooked once, its responses need no listener.
    if ((res as { [HOOKED]?: boolean })[HOOKED] !== true) hookResponsePrototype(Object.getPrototypeOf(res));
    serveHttp(pipeline, req, res, enterExpress, next, serve);
  };
}

function routeOrUnmatched(req: object): string {
  return expressRoute(req as ExpressRequestLike) ?? UNMATCHED_ROUTE;
}

function enterExpress(ex: MeshRequestContext, req: object, _res: unknown, next: ExpressNext): void {
  (req as ExpressRequestLike).mesh = ex;
  next();
}

/**
 * An error handler that answers mesh errors (from an outbound call, or
 * thrown by a handler) with their status and reason: `app.use(meshExpressErrors())`, last.
 * Anything else goes on to the next error handler.
 */
export function meshExpressErrors(): ExpressErrorHandler {
  return (err, _req, res, next) => {
    if (!isMeshError(err) || res.headersSent) {
      next(err);
      return;
    }
    answer(res, err, '1');
  };
}
