// proxyless/nest: the NestJS module, guard, interceptor and parameter decorator.
// A separate entry point because it imports @nestjs/common, @nestjs/core and rxjs at run time.
export {
  MeshContext,
  MeshGuard,
  MeshInterceptor,
  MeshModule,
  type MeshModuleOptions,
  meshHttpException,
  nestRoute,
} from './server/adapters/nest.js';
export type { MeshRequestContext } from './server/inbound-exchange.js';
