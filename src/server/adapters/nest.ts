/**
 * NestJS: `MeshModule.forRoot(mesh)` in the root module's imports. It
 * binds three pieces, each in Nest's own idiom:
 * - a middleware for every route: the inbound pipeline's admission,
 *   span, deadline and metrics (the Express adapter underneath);
 * - a global guard (MeshGuard): JWT authentication and authorization,
 *   refusing with 401/403 and the mesh's reason;
 * - a global interceptor (MeshInterceptor): labels the metrics with the
 *   route template and answers mesh errors from handlers (an open circuit
 *   downstream, an exhausted deadline) with their status.
 * Handlers read the caller with the `@MeshContext()` parameter decorator.
 *
 * Decorators are applied as plain calls, so this file needs neither
 * `experimentalDecorators` nor `emitDecoratorMetadata`, and nothing is
 * injected by type. This module imports @nestjs/common, @nestjs/core and
 * rxjs at run time, so it is only reachable from `proxyless/nest`.
 */
import {
  type CallHandler,
  type CanActivate,
  createParamDecorator,
  type ExecutionContext,
  HttpException,
  type MiddlewareConsumer,
  Module,
  type NestInterceptor,
  type NestModule,
} from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { catchError, type Observable, throwError } from 'rxjs';
import { isMeshError } from '../../errors.js';
import { exchangeOf } from '../http-inbound.js';
import type { InboundExchange, MeshRequestContext } from '../inbound-exchange.js';
import { refusalError } from '../inbound-guard.js';
import { meshExpress } from './express.js';
import type { InboundOwner } from './mesh-like.js';

// Nest's PATH_METADATA key, read off controllers and handlers for the route template.
const PATH_METADATA = 'path';

/** Node's request under whatever Nest hands out (Express's req is node's; Fastify's wraps it as `raw`). */
function nodeRequest(ctx: ExecutionContext): object {
  const req = ctx.switchToHttp().getRequest<{ raw?: object }>();
  return req.raw ?? req;
}

function exchange(ctx: ExecutionContext): InboundExchange | undefined {
  return ctx.getType() === 'http' ? exchangeOf(nodeRequest(ctx)) : undefined;
}

function joinPaths(...parts: unknown[]): string {
  const segments = parts.flatMap((p) => (Array.isArray(p) ? [p[0]] : [p])).filter((p): p is string => typeof p === 'string' && p !== '' && p !== '/');
  return `/${segments.map((p) => p.replace(/^\/+|\/+$/g, '')).join('/')}`;
}

/** The route template: Express's matched route when Nest runs on Express, else the controller's and handler's paths. */
export function nestRoute(ctx: ExecutionContext): string {
  const req = ctx.switchToHttp().getRequest<{ route?: { path?: unknown }; baseUrl?: string }>();
  if (typeof req.route?.path === 'string') return `${req.baseUrl ?? ''}${req.route.path}`;
  const reflect = Reflect as unknown as { getMetadata?: (key: string, target: object) => unknown };
  const get = reflect.getMetadata;
  if (get === undefined) return joinPaths();
  return joinPaths(get(PATH_METADATA, ctx.getClass()), get(PATH_METADATA, ctx.getHandler()));
}

/** A mesh error as Nest's HttpException: the code's status, the mesh's reason as the message. */
export function meshHttpException(err: unknown): HttpException {
  const e = refusalError(err);
  return new HttpException({ statusCode: e.httpStatus, message: e.message, code: e.code }, e.httpStatus, { cause: err });
}

/** Authentication and authorization for every route (bound globally by MeshModule). */
export class MeshGuard implements CanActivate {
  canActivate(ctx: ExecutionContext): boolean | Promise<boolean> {
    const ex = exchange(ctx);
    if (ex === undefined) return true;
    // Guards run before interceptors: a denied request is labelled with its route too.
    ex.setRoute(nestRoute(ctx));
    if (!ex.guarded) return true;
    return ex.authorize().then(
      () => true,
      (err: unknown) => {
        throw meshHttpException(err);
      },
    );
  }
}

/** Route label, and mesh errors thrown by handlers answered with their status. */
export class MeshInterceptor implements NestInterceptor {
  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    const ex = exchange(ctx);
    if (ex !== undefined && ex.route === undefined) ex.setRoute(nestRoute(ctx));
    return next.handle().pipe(catchError((err: unknown) => throwError(() => (isMeshError(err) ? meshHttpException(err) : err))));
  }
}

/** `@MeshContext() caller: MeshRequestContext`: the verified peer and JWT claims of the request. */
export const MeshContext: () => ParameterDecorator = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): MeshRequestContext | undefined => exchange(ctx),
);

export interface MeshModuleOptions {
  /** Route patterns the middleware covers (Nest's `forRoutes`); default every route. */
  readonly routes?: readonly string[];
}

export class MeshModule {
  /** The module for `mesh`: import it once, in the root module. */
  static forRoot(mesh: InboundOwner, options: MeshModuleOptions = {}) {
    const middleware = meshExpress(mesh, { deferAuthorization: true });
    const routes = options.routes ?? ['*'];
    class MeshRootModule extends MeshModule implements NestModule {
      configure(consumer: MiddlewareConsumer): void {
        consumer.apply(middleware).forRoutes(...routes);
      }
    }
    Module({})(MeshRootModule);
    return {
      module: MeshRootModule,
      global: true,
      providers: [
        { provide: APP_GUARD, useValue: new MeshGuard() },
        { provide: APP_INTERCEPTOR, useValue: new MeshInterceptor() },
      ],
    };
  }
}
