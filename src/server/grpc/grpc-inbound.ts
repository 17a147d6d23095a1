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
import type { Metadata, ServerInterceptingCall, ServerInterceptingCallInterface, ServerInterceptor } from '@grpc/grpc-js';
import { GrpcStatus, grpcStatusOf, isMeshError, MeshError } from '../../errors.js';
import { monotonicNow } from '../../net/monotonic-clock.js';
import { budgetFromHeaders } from '../../resilience/deadline-context.js';
import type { DeadlineWheel, TimerEntry } from '../../resilience/deadline-wheel.js';
import type { GrpcWireBytes } from '../../telemetry/grpc-wire-bytes.js';
import { rememberExchange } from '../http-inbound.js';
import type { InboundExchange } from '../inbound-exchange.js';
import type { InboundPipeline } from '../inbound-pipeline.js';
import type { ConnectionSides } from './grpc-transport.js';
import { checkMethodRules, type MethodRules } from './method-rules.js';

type Headers = Record<string, string | string[] | undefined>;
// Not exported by grpc-js's entry point under these names.
type InterceptingServerListener = Parameters<ServerInterceptingCallInterface['start']>[0];
type PartialStatusObject = Parameters<ServerInterceptingCallInterface['sendStatus']>[0];

export interface GrpcInboundParts {
  readonly pipeline: InboundPipeline;
  /** The verified peer and local side of the connection a call came on. */
  readonly sides: (remoteAddress: string | undefined, remotePort: number | undefined) => ConnectionSides | undefined;
  /** The decorator rules of a method, by path. */
  readonly rules: (path: string) => MethodRules | undefined;
  /** The mesh's timer wheel, for `@Timeout` caps. */
  readonly wheel: DeadlineWheel;
  /** Where the server's wrapped (de)serializers note each message's wire size (metered-server.ts). */
  readonly wire: GrpcWireBytes;
}

const UNKNOWN_PEER = { spiffeId: undefined, principal: undefined, namespace: undefined, authenticated: false, address: '' } as const;

export function meshServerInterceptor(parts: GrpcInboundParts): ServerInterceptor {
  // grpc-js only calls the ServerInterceptingCallInterface on what an interceptor returns.
  return (method, call) => new MeshServerCall(parts, method.path, method.requestStream, call) as unknown as ServerInterceptingCall;
}

/**
 * One call between grpc-js's server and the handler. It is both the
 * intercepting call grpc-js talks to and the listener of the call below
 * it, with plain methods: grpc-js's ServerInterceptingCall would add a
 * responder, a listener and six closures per call.
 */
class MeshServerCall implements ServerInterceptingCallInterface, InterceptingServerListener {
  readonly #parts: GrpcInboundParts;
  readonly #path: string;
  readonly #streaming: boolean;
  readonly #next: ServerInterceptingCallInterface;
  #listener: InterceptingServerListener | undefined;
  #metadata: Metadata | undefined;
  #rules: MethodRules | undefined;
  #ex: InboundExchange | undefined;
  #timer: TimerEntry | undefined;
  #done = false;
  /** Wire bytes (messages plus their 5-byte prefixes) read by the handler and sent by it. */
  #requestBytes = 0;
  #responseBytes = 0;

  constructor(parts: GrpcInboundParts, path: string, requestStream: boolean, next: ServerInterceptingCallInterface) {
    this.#parts = parts;
    this.#path = path;
    this.#streaming = requestStream;
    this.#next = next;
  }

  // --- toward the handler (grpc-js's server calls these) ------------------

  start(listener: InterceptingServerListener): void {
    this.#listener = listener;
    this.#next.start(this);
  }
  sendMetadata(metadata: Metadata): void {
    this.#next.sendMetadata(metadata);
  }
  sendMessage(message: unknown, callback: () => void): void {
    // The call below serializes `message` synchronously, right here.
    this.#next.sendMessage(message, callback);
    this.#responseBytes += this.#parts.wire.takeSent(message);
  }
  sendStatus(status: PartialStatusObject): void {
    this.#finish(status.code);
    this.#next.sendStatus(status);
  }
  startRead(): void {
    this.#next.startRead();
  }
  getPeer(): string {
    return this.#next.getPeer();
  }
  getDeadline(): ReturnType<ServerInterceptingCallInterface['getDeadline']> {
    return this.#next.getDeadline();
  }
  getHost(): string {
    return this.#next.getHost();
  }
  getAuthContext(): ReturnType<ServerInterceptingCallInterface['getAuthContext']> {
    return this.#next.getAuthContext();
  }
  getConnectionInfo(): ReturnType<ServerInterceptingCallInterface['getConnectionInfo']> {
    return this.#next.getConnectionInfo();
  }
  getMetricsRecorder(): ReturnType<ServerInterceptingCallInterface['getMetricsRecorder']> {
    return this.#next.getMetricsRecorder();
  }

  // --- from the call below (its listener) -------------------------------

  onReceiveMetadata(metadata: Metadata): void {
    this.#begin(metadata);
  }

  onReceiveMessage(message: unknown): void {
    this.#requestBytes += this.#parts.wire.takeReceived(message);
    const ex = this.#ex;
    // A unary request's message only gets stored; a stream's reaches the handler, in its context.
    if (ex !== undefined && this.#streaming) ex.run(() => this.#listener!.onReceiveMessage(message));
    else this.#listener!.onReceiveMessage(message);
  }

  onReceiveHalfClose(): void {
    const ex = this.#ex;
    if (ex !== undefined) ex.run(halfClose, this.#listener!);
    else this.#listener!.onReceiveHalfClose();
  }

  onCancel(): void {
    this.#cancelled();
    this.#listener!.onCancel();
  }

  // --- the pipeline -------------------------------------------------------

  #begin(metadata: Metadata): void {
    const { pipeline, rules: rulesOf } = this.#parts;
    const call = this.#next;
    const info = call.getConnectionInfo();
    const sides = this.#parts.sides(info.remoteAddress, info.remotePort);
    const rules = rulesOf(this.#path);
    this.#rules = rules;
    this.#metadata = metadata;
    const host = call.getHost();
    const headers = headersOf(metadata, host);
    const ex = pipeline.begin({
      protocol: 'grpc',
      method: 'POST',
      path: this.#path,
      authority: host ?? '',
      headers,
      peer: sides?.peer ?? { ...UNKNOWN_PEER, address: info.remoteAddress ?? '' },
      local: sides?.local ?? info,
      // Not known yet: the messages arrive later, and their size goes to finish() (#finish).
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
    if (!ex.guarded && rules?.authorizer === undefined) {
      this.#proceed();
      return;
    }
    // A JWT rule rewrites headers (the token removed, claims copied): the handler's metadata must follow.
    const before = ex.rewritesHeaders ? new Set(Object.keys(headers)) : undefined;
    if (before === undefined) {
      let judged: string | undefined;
      try {
        judged = ex.authorizeNow();
      } catch (err) {
        this.#refuse(asRefusal(err));
        return;
      }
      if (judged !== undefined) {
        this.#authorized(headers, undefined);
        return;
      }
    }
    ex.authorize().then(
      () => this.#authorized(headers, before),
      (err: unknown) => this.#refuse(asRefusal(err)),
    );
  }

  /** The mesh's policies allowed the call: the method's own rules, then the handler. */
  #authorized(headers: Headers, before: ReadonlySet<string> | undefined): void {
    const rules = this.#rules;
    const denied = rules === undefined ? undefined : checkMethodRules(rules, this.#ex!);
    if (denied !== undefined) {
      this.#refuse(denied);
      return;
    }
    if (before !== undefined) applyHeaderChanges(this.#metadata!, headers, before);
    this.#proceed();
  }

  #proceed(): void {
    if (this.#done) return;
    const timeoutMs = this.#rules?.timeoutMs;
    if (timeoutMs !== undefined) this.#armTimeout(timeoutMs);
    this.#ex!.run(passMetadata, this);
  }

  /** @internal For passMetadata: hands the metadata to the handler's side. */
  deliverMetadata(): void {
    this.#listener!.onReceiveMetadata(this.#metadata!);
  }

  /** The caller's remaining time (`grpc-timeout`, already parsed by grpc-js, or the mesh's header), capped by `@Timeout`. */
  #budget(headers: Headers, capMs: number | undefined): number | undefined {
    const deadline = this.#next.getDeadline();
    const at = deadline instanceof Date ? deadline.getTime() : deadline;
    let budget = Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined;
    const mesh = budgetFromHeaders(firstValue, headers);
    if (mesh !== undefined && (budget === undefined || mesh < budget)) budget = mesh;
    if (capMs !== undefined && (budget === undefined || capMs < budget)) budget = capMs;
    return budget;
  }

  #armTimeout(ms: number): void {
    this.#timer = this.#parts.wheel.schedule(monotonicNow() + ms, () => {
      if (this.#done) return;
      this.#refuse(new MeshError('MESH_DEADLINE_EXCEEDED', `${this.#path} ran past its @Timeout of ${ms} ms`, { details: { source: 'timeout' } }));
    });
  }

  #refuse(err: MeshError): void {
    const code = grpcStatusOf(err);
    this.#finish(code, err);
    this.#next.sendStatus({ code, details: err.message });
  }

  #cancelled(): void {
    if (this.#done) return;
    // grpc-js ends a call whose grpc-timeout ran out itself, and reports it here as a cancel.
    const deadline = this.#next.getDeadline();
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
    this.#ex?.finish(
      { status: completed ? 200 : 0, grpcStatus, requestBytes: this.#requestBytes, responseBytes: this.#responseBytes, completed },
      err,
    );
  }
}

function passMetadata(call: MeshServerCall): void {
  call.deliverMetadata();
}

function halfClose(listener: InterceptingServerListener): void {
  listener.onReceiveHalfClose();
}

function firstValue(lowerName: string, headers: Headers): string | undefined {
  const v = headers[lowerName];
  return Array.isArray(v) ? v[0] : v;
}

function asRefusal(err: unknown): MeshError {
  return isMeshError(err) ? err : new MeshError('MESH_UNAUTHENTICATED', 'authentication failed');
}

/** The call's metadata as the pipeline reads headers (text values; `-bin` ones are left out). */
function headersOf(metadata: Metadata, host: string | undefined): Headers {
  // getMap() is a fresh object already: binary values are dropped from it in place.
  const headers = metadata.getMap() as Record<string, unknown>;
  for (const key in headers) if (typeof headers[key] !== 'string') delete headers[key];
  if (host !== undefined) headers[':authority'] = host;
  return headers as Headers;
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
