/**
 * What a route answers itself with instead of sending the request on: a
 * redirect, a direct response, or a fault abort. Compiled once per config
 * update. An answer has the shape of the pipeline's local reply, so it goes
 * out as built; a direct response is one frozen object, allocated once.
 */
import type { RouteConfig } from '../config/route-schema.js';
import { compileRedirect } from './rewrite.js';

export interface RouteAnswer {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>> | undefined;
  readonly body?: string | undefined;
  /** Envoy's response flag for logs and metrics: `-`, a route's own answer is no failure. */
  readonly flag: string;
}

/** The answer to one request, from its path (with query), authority and scheme. */
export type AnswerRequest = (path: string, authority: string, scheme: string) => RouteAnswer;

/** The route's own answer, or undefined for a route that sends requests on. */
export function compileAnswer(config: RouteConfig): AnswerRequest | undefined {
  if (config.redirect !== undefined) {
    const redirect = compileRedirect(config.redirect);
    return (path, authority, scheme) => {
      const r = redirect(path, authority, scheme);
      return { status: r.status, headers: { location: r.location }, flag: '-' };
    };
  }
  const direct = config.directResponse;
  if (direct === undefined) return undefined;
  const answer: RouteAnswer = Object.freeze({ status: direct.status, body: direct.body, flag: '-' });
  return () => answer;
}

const FAULT_ABORT_MESSAGE = 'fault filter abort';

/** Envoy's fault filter's answers: its body with an HTTP status, or gRPC's trailers-only response for a gRPC status. */
export function faultAbortAnswer(abort: { httpStatus?: number | undefined; grpcStatus?: number | undefined }) {
  if (abort.grpcStatus === undefined) return { status: abort.httpStatus ?? 503, headers: undefined, body: FAULT_ABORT_MESSAGE };
  const headers = Object.freeze({
    'content-type': 'application/grpc',
    'grpc-status': String(abort.grpcStatus),
    'grpc-message': FAULT_ABORT_MESSAGE,
  });
  return { status: 200, headers, body: undefined };
}
