/**
 * Fastify plugin: `await app.register(meshFastify(mesh))`. Hooks put every
 * request of the context it is registered in through the mesh's inbound
 * pipeline. Registered at the root it covers every route (and the 404
 * handler); registered inside an encapsulated plugin it covers that
 * plugin's routes only, as Fastify's encapsulation means. Handlers read the
 * caller as `request.mesh`; `request.routeOptions.url` (`/users/:id`)
 * labels the metrics.
 *
 * Fastify is never imported: the types are the structural subset used
 * here, and the two symbols fastify-plugin would set are set directly.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NodeServerLike } from '../drain.js';
import { type ServeOptions, serveHttp } from '../http-inbound.js';
import type { MeshRequestContext } from '../inbound-exchange.js';
import { refusal } from '../inbound-guard.js';
import { UNMATCHED_ROUTE } from '../route-metrics.js';
import type { InboundOwner } from './mesh-like.js';

export interface FastifyRequestLike {
  readonly raw: IncomingMessage;
  readonly routeOptions?: { readonly url?: string | undefined } | undefined;
  mesh?: MeshRequestContext | null;
}

export interface FastifyReplyLike {
  readonly raw: ServerResponse;
  code(status: number): FastifyReplyLike;
  header(name: string, value: string): FastifyReplyLike;
  send(payload?: unknown): FastifyReplyLike;
}

export interface FastifyInstanceLike {
  addHook(name: 'onRequest', hook: (request: FastifyRequestLike, reply: FastifyReplyLike, done: (err?: Error) => void) => void): unknown;
  hasRequestDecorator(name: string): boolean;
  decorateRequest(name: string, value: unknown): unknown;
  /** The node server Fastify listens on, which the drain closes. */
  readonly server: NodeServerLike;
}

export type FastifyPluginLike = ((instance: FastifyInstanceLike, options: unknown, done: (err?: Error) => void) => void) & Record<symbol, unknown>;

export interface MeshFastifyOptions {
  /**
   * Skip authentication and authorization in the plugin's hook: the
   * application runs them later with `authorizeRequest(request)`; default false.
   */
  readonly deferAuthorization?: boolean;
}

type Done = (err?: Error) => void;

/** The route template Fastify matched, or the fixed unmatched label. */
export function fastifyRoute(request: FastifyRequestLike): string {
  return request.routeOptions?.url ?? UNMATCHED_ROUTE;
}

/** What serveHttp hands back to the plugin for one request: one object, instead of a closure per callback. */
interface FastifyTurn {
  readonly request: FastifyRequestLike;
  readonly reply: FastifyReplyLike;
  readonly next: Done;
}

const FASTIFY_SERVE: ServeOptions<FastifyTurn> = {
  routeOf: (_req, turn) => fastifyRoute(turn.request),
  refuse: (err, retryAfter, turn) => {
    const r = refusal(err);
    if (r.status === 503 || r.status === 429) turn.reply.header('retry-after', retryAfter);
    turn.reply.code(r.status).header('content-type', 'text/plain; charset=utf-8').send(r.body);
  },
};
const FASTIFY_DEFERRED: ServeOptions<FastifyTurn> = { ...FASTIFY_SERVE, deferAuthorization: true };

function enterFastify(ex: MeshRequestContext, _req: unknown, _res: unknown, turn: FastifyTurn): void {
  turn.request.mesh = ex;
  turn.next();
}

export function meshFastify(mesh: InboundOwner, options: MeshFastifyOptions = {}): FastifyPluginLike {
  const inbound = mesh.inbound;
  const pipeline = inbound.pipeline;
  const serve = options.deferAuthorization === true ? FASTIFY_DEFERRED : FASTIFY_SERVE;
  const plugin = ((fastify: FastifyInstanceLike, _options: unknown, done: Done) => {
    if (!fastify.hasRequestDecorator('mesh')) fastify.decorateRequest('mesh', null);
    inbound.attach(fastify.server);
    fastify.addHook('onRequest', (request, reply, next) => {
      serveHttp(pipeline, request.raw, reply.raw, enterFastify, { request, reply, next }, serve);
    });
    // No re-entry after the body is read: Fastify continues a request from
    // an AsyncResource made in the context onRequest ran in (its content-type
    // parser's), so the handler is back in the request's trace and deadline.
    // The preHandler hook that re-entered it cost every request Fastify's
    // hook runner, about 2 µs of server CPU in bench:inbound.
    done();
  }) as FastifyPluginLike;
  // What fastify-plugin sets: hooks apply to the context that registers the plugin, not a child of it.
  plugin[Symbol.for('skip-override')] = true;
  plugin[Symbol.for('fastify.display-name')] = 'proxyless';
  return plugin;
}
