/**
 * The inbound pipeline as a grpc-js server interceptor: each call becomes
 * one InboundExchange (protocol 'grpc', path `/package.Service/Method`),
 * exactly as an HTTP request does, so admission and load shedding, the
 * SERVER span, the inherited deadline, JWT authentication, authorization,
 * metrics (reporter="destination", `grpc_response_status`), the access log
 * and the per-route metrics (route = the method's path) are the HTTP
 * side's own code. On top come the method's decorator rules (method-rules.ts).
 *
 * The handler runs inside the exchange's context: grpc-js calls a unary or
 * server-streaming handler from the half-close event and a streaming one
 * from the metadata event, both of which this interceptor passes on inside
 * `exchange.run()`, so AsyncLocalStorage (trace, deadline) reaches the
 * handler and every call it makes.
 *
 * Refusals use the one table in errors.ts (grpcStatusOf): shed →
 * UNAVAILABLE, rate limit → RESOURCE_EXHAUSTED, bad or missing JWT →
 * UNAUTHENTICATED, denial → PERMISSION_DENIED.
 */
import {
  type Metadata,
  type Responder,
  ServerInterceptingCall,
  type ServerInterceptingCallInterface,
  type ServerInterceptor,
  type ServerListener,
} from '@grpc/grpc-js';
import { GrpcStatus, grpcStatusOf, isMeshError, MeshError } from '../../errors.js';
import { budgetFromHeaders } from '../../resilience/deadline-context.js';
import type { DeadlineWheel, TimerEntry } from '../../resilience/deadline-wheel.js';
import { rememberExchange } from '../http-inbound.js';
import type { InboundExchange } from '../inbound-exchange.js';
import type { InboundPipeline } from '../inbound-pipeline.js';
import type { ConnectionSides } from './grpc-transport.js';
import { checkMethodRules, type MethodRules } from './method-rules.js';

type Headers = Record<string, string | string[] | undefined>;

export interface GrpcInboundParts {
  readonly pipeline: InboundPipeline;
  /** The verified peer and local side of the connection a call came on. */
  readonly sides: (remoteAddress: string | undefined, remotePort: number | undefined) => ConnectionSides | undefined;
  /** The decorator rules of a method, by path. */
  readonly rules: (path: string) => MethodRules | undefined;
  /** The mesh's timer wheel, for `@Timeout` caps. */
  readonly wheel: DeadlineWheel;
}

const UNKNOWN_PEER = { spiffeId: undefined, principal: undefined, namespace: undefined, authenticated: false, address: '' } as const;

export function meshServerInterceptor(parts: GrpcInboundParts): ServerInterceptor {
  return (method, call) => new ServerInterceptingCall(call, new CallState(parts, method.path, method.requestStream, call).responder);
}

class CallState {
  readonly #parts: GrpcInboundParts;
  readonly #path: string;
  readonly #streaming: boolean;
  readonly #call: ServerInterceptingCallInterface;
  #ex: InboundExchange | undefined;
  #timer: TimerEntry | undefined;
  #done = false;
  readonly responder: Responder;

  constructor(parts: GrpcInboundParts, path: string, requestStream: boolean, call: ServerInterceptingCallInterface) {
    this.#parts = parts;
    this.#path = path;
    this.#streaming = requestStream;
    this.#call = call;
    const listener: ServerListener = {
      onReceiveMetadata: (metadata, next) => this.#begin(metadata, next),
      onReceiveMessage: (message, next) => {
        const ex = this.#ex;
        // A unary request's message only gets stored; a stream's reaches the handler, in its context.
        if (ex !== undefined && this.#streaming) ex.run(() => next(message));
        else next(message);
      },
      onReceiveHalfClose: (next) => {
        const ex = this.#ex;
        if (ex !== undefined) ex.run(next);
        else next();
      },
      onCancel: () => this.#cancelled(),
    };
    this.responder = {
      start: (next) => next(listener),
      sendStatus: (status, next) => {
        this.#finish(status.code);
        next(status);
      },
    };
  }

  #begin(metadata: Metadata, next: (metadata: Metadata) => void): void {
    const { pipeline, rules: rulesOf } = this.#parts;
    const call = this.#call;
    const info = call.getConnectionInfo();
    const sides = this.#parts.sides(info.remoteAddress, info.remotePort);
    const rules = rulesOf(this.#path);
    const headers = headersOf(metadata, call.getHost());
    const ex = pipeline.begin({
      protocol: 'grpc',
      method: 'POST',
      path: this.#path,
      authority: call.getHost() ?? '',
      headers,
      peer: sides?.peer ?? { ...UNKNOWN_PEER, address: info.remoteAddress ?? '' },
      local: sides?.local ?? info,
      requestBytes: 0,
      budgetMs: this.#budget(headers, rules?.timeoutMs),
    });
    this.#ex = ex;
    // gRPC's route is its method: a bounded set, named by the proto.
    ex.setRoute(this.#path);
    rememberExchange(metadata, ex);
    if (ex.refusal !== undefined) {
      this.#refuse(ex.refusal);
      return;
    }
    if (rules?.bucket !== undefined && !rules.bucket.tryTake()) {
      pipeline.telemetry?.routes?.shed('rate-limit');
      this.#refuse(new MeshError('MESH_RATE_LIMITED', `the rate limit of ${this.#path} has no token for this call`));
      return;
    }
    const proceed = () => {
      if (this.#done) return;
      if (rules?.timeoutMs !== undefined) this.#armTimeout(rules.timeoutMs);
      ex.run(() => next(metadata));
    };
    if (!ex.guarded && rules?.authorizer === undefined) {
      proceed();
      return;
    }
    const before = ex.guarded ? new Set(Object.keys(headers)) : undefined;
    ex.authorize().then(
      () => {
        const denied = rules === undefined ? undefined : checkMethodRules(rules, ex);
        if (denied !== undefined) {
          this.#refuse(denied);
          return;
        }
        if (before !== undefined) applyHeaderChanges(metadata, headers, before);
        proceed();
      },
      (err: unknown) => this.#refuse(isMeshError(err) ? err : new MeshError('MESH_UNAUTHENTICATED', 'authentication failed')),
    );
  }

  /** The caller's remaining time (`grpc-timeout`, already parsed by grpc-js, or the mesh's header), capped by `@Timeout`. */
  #budget(headers: Headers, capMs: number | undefined): number | undefined {
    const deadline = this.#call.getDeadline();
    const at = deadline instanceof Date ? deadline.getTime() : deadline;
    let budget = Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined;
    const mesh = budgetFromHeaders((name) => {
      const v = headers[name];
      return Array.isArray(v) ? v[0] : v;
    });
    if (mesh !== undefined && (budget === undefined || mesh < budget)) budget = mesh;
    if (capMs !== undefined && (budget === undefined || capMs < budget)) budget = capMs;
    return budget;
  }

  #armTimeout(ms: number): void {
    this.#timer = this.#parts.wheel.schedule(performance.now() + ms, () => {
      if (this.#done) return;
      this.#refuse(new MeshError('MESH_DEADLINE_EXCEEDED', `${this.#path} ran past its @Timeout of ${ms} ms`, { details: { source: 'timeout' } }));
    });
  }

  #refuse(err: MeshError): void {
    const code = grpcStatusOf(err);
    this.#finish(code, err);
    this.#call.sendStatus({ code, details: err.message });
  }

  #cancelled(): void {
    if (this.#done) return;
    // grpc-js ends a call whose grpc-timeout ran out itself, and reports it here as a cancel.
    const deadline = this.#call.getDeadline();
    const at = deadline instanceof Date ? deadline.getTime() : deadline;
    if (Number.isFinite(at) && at <= Date.now()) {
      this.#finish(GrpcStatus.DEADLINE_EXCEEDED, new MeshError('MESH_DEADLINE_EXCEEDED', `${this.#path} ran past the caller's deadline`));
      return;
    }
    this.#finish(GrpcStatus.CANCELLED, undefined, false);
  }

  #finish(grpcStatus: number, err?: MeshError, completed = true): void {
    if (this.#done) return;
    this.#done = true;
    this.#timer?.cancel();
    this.#ex?.finish({ status: completed ? 200 : 0, grpcStatus, responseBytes: 0, completed }, err);
  }
}

/** The call's metadata as the pipeline reads headers (text values; `-bin` ones are left out). */
function headersOf(metadata: Metadata, host: string | undefined): Headers {
  const headers: Headers = {};
  const map = metadata.getMap();
  for (const key in map) {
    const v = map[key];
    if (typeof v === 'string') headers[key] = v;
  }
  if (host !== undefined) headers[':authority'] = host;
  return headers;
}

/** What authentication removed (a forwarded token) or added (claim headers) reaches the handler's metadata too. */
function applyHeaderChanges(metadata: Metadata, headers: Headers, before: ReadonlySet<string>): void {
  for (const key of before) if (headers[key] === undefined && key !== ':authority') metadata.remove(key);
  for (const key in headers) {
    const v = headers[key];
    if (key.startsWith(':') || v === undefined) continue;
    const value = Array.isArray(v) ? v.join(',') : v;
    if (metadata.get(key)[0] !== value) metadata.set(key, value);
  }
}
