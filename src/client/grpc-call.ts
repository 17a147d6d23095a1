/**
 * The gRPC adapter: grpc-js's intercepting-call contract on one side, the
 * neutral call (call.ts) on the other, exactly as http.ts is for undici.
 * Route match, deadline, retries with budget, hedging, circuit breaking,
 * endpoint pick, outlier detection and telemetry all happen in the shared
 * pipeline; this file only moves metadata, messages and statuses.
 *
 * When the caller sees an answer: a unary response commits at its status
 * (an UNAVAILABLE can still be retried, since the caller has seen nothing);
 * a streamed response commits at its first message, after which it is the
 * caller's. A request stream is sent as it is written and so is never
 * replayed: client-streaming and bidi calls get one attempt.
 */
import { type InterceptingListener, type InterceptorOptions, Metadata, type NextCall, type StatusObject, status } from '@grpc/grpc-js';
import { isMeshError } from '../errors.js';
import type { GrpcWireBytes } from '../telemetry/grpc-wire-bytes.js';
import { OutboundCall } from './call.js';
import type { CallPolicy, RouteTarget } from './call-policy.js';
import type { Attempt, LocalReply } from './call-types.js';
import { GrpcAttempt, type GrpcCallStream } from './grpc-attempt.js';
import { CONNECT_FAILED, ENDPOINT_PIN } from './grpc-balancer.js';
import type { GrpcChannelContext } from './grpc-channel-context.js';
import type { GrpcRequestView } from './grpc-request.js';
import { connectFailure, errorStatus, statusOfReply } from './grpc-status.js';
import type { CallEnv } from './stack.js';
import type { Upstream } from './upstream.js';

type MessageContext = Parameters<GrpcCallStream['sendMessageWithContext']>[0];

export interface GrpcCallSetup {
  readonly request: GrpcRequestView;
  readonly options: InterceptorOptions;
  readonly next: NextCall;
  readonly listener: InterceptingListener;
  readonly channel: GrpcChannelContext;
  readonly wire: GrpcWireBytes;
}

export class GrpcCall extends OutboundCall {
  readonly request: GrpcRequestView;
  /** Where this client's (de)serializers note each message's wire size; the attempts take theirs from it. */
  readonly wire: GrpcWireBytes;
  readonly #s: GrpcCallSetup;
  readonly #clientStreaming: boolean;
  readonly #serverStreaming: boolean;
  #message: unknown;
  #hasMessage = false;
  /** Client streaming: writes made before the attempt started. */
  #writes: { context: MessageContext; message: unknown }[] | undefined;
  #halfClosed = false;
  #streamingAttempt: GrpcAttempt | undefined;
  #committed: GrpcAttempt | undefined;
  #delivered = false;
  /** Streaming responses: reads the caller asked for before the call committed. */
  #readsWanted = 0;
  #reported = false;
  /** The request's wire bytes: the one message every attempt sends, or a request stream's messages summed. */
  #requestBytes = 0;

  constructor(policy: CallPolicy, env: CallEnv, setup: GrpcCallSetup) {
    super(policy, env);
    this.#s = setup;
    this.request = setup.request;
    this.wire = setup.wire;
    const def = setup.options.method_definition;
    this.#clientStreaming = def.requestStream;
    this.#serverStreaming = def.responseStream;
  }

  // --- the caller's side (grpc-js InterceptingCallInterface) ---------------

  /** The call starts once its request is known: at once for a request stream, else at half-close. */
  begin(): void {
    if (this.#clientStreaming) this.run();
  }

  sendMessage(message: unknown): void {
    if (!this.#clientStreaming) {
      this.#message = message;
      this.#hasMessage = true;
      return;
    }
    this.sendMessageWithContext({}, message);
  }

  sendMessageWithContext(context: MessageContext, message: unknown): void {
    if (!this.#clientStreaming) {
      this.sendMessage(message);
      context.callback?.();
      return;
    }
    const stream = this.#streamingAttempt?.stream;
    if (stream !== undefined) {
      stream.sendMessageWithContext(context, message);
      this.#requestBytes += this.wire.takeSent(message);
    } else if (!this.done) {
      this.#writes ??= [];
      this.#writes.push({ context, message });
    }
  }

  halfClose(): void {
    if (this.#halfClosed) return;
    this.#halfClosed = true;
    if (this.#clientStreaming) this.#streamingAttempt?.stream?.halfClose();
    else if (!this.done) this.run();
  }

  startRead(): void {
    const committed = this.#committed;
    if (committed !== undefined) committed.stream?.startRead();
    else this.#readsWanted++;
  }

  getPeer(): string {
    return this.#committed?.stream?.getPeer() ?? '';
  }

  getAuthContext(): ReturnType<GrpcCallStream['getAuthContext']> {
    return this.#committed?.stream?.getAuthContext() ?? null;
  }

  protected override callerDeadlineAt(now: number): number | undefined {
    const d = this.#s.options.deadline;
    if (d === undefined) return undefined;
    const at = typeof d === 'number' ? d : d.getTime();
    return Number.isFinite(at) ? now + (at - Date.now()) : undefined;
  }

  // --- CallTransport ------------------------------------------------------

  protected createAttempt(
    upstream: Upstream,
    target: RouteTarget,
    n: number,
    hedge: boolean,
    path: string,
    remainingMs: number | undefined,
    now: number,
    isRetry: boolean,
  ): GrpcAttempt {
    return new GrpcAttempt(this, upstream, target, n, hedge, path, remainingMs, now, isRetry);
  }

  startAttempt(attempt: Attempt): void {
    const a = attempt as GrpcAttempt;
    const s = this.#s;
    const metadata = this.#attemptMetadata(a);
    s.channel.upstreams.set(a.upstream.key, a.upstream);
    const remaining = a.remainingMs;
    // The remaining budget goes out as the attempt's deadline, so grpc-js sends it as grpc-timeout.
    const options = remaining === undefined ? s.options : { ...s.options, deadline: Date.now() + remaining };
    const stream = s.next(options);
    a.stream = stream;
    stream.start(metadata, a);
    this.onSent(a);
    if (this.#clientStreaming) {
      this.#streamingAttempt = a;
      const writes = this.#writes;
      this.#writes = undefined;
      if (writes !== undefined) {
        for (const w of writes) {
          stream.sendMessageWithContext(w.context, w.message);
          this.#requestBytes += this.wire.takeSent(w.message);
        }
      }
      if (this.#halfClosed) stream.halfClose();
    } else {
      stream.sendMessage(this.#message);
      // Every attempt sends the same message: the request's size is that of one copy, not of all the retries.
      const sent = this.wire.takeSent(this.#message);
      if (sent !== 0) this.#requestBytes = sent;
      stream.halfClose();
    }
    // A unary call reads its one message by itself; a stream reads its first so the call can commit on it.
    if (this.#serverStreaming) stream.startRead();
  }

  cancelAttempt(attempt: Attempt, reason: Error): void {
    (attempt as GrpcAttempt).stop(status.CANCELLED, reason.message);
  }

  failCommitted(attempt: Attempt, err: Error): void {
    (attempt as GrpcAttempt).stop(status.CANCELLED, err.message);
    this.#finishWith(errorStatus(err), attempt as GrpcAttempt, err);
  }

  fail(err: Error): void {
    if (this.#delivered) return;
    this.#delivered = true;
    this.#report(errorStatus(err), undefined, err, isMeshError(err) ? err.httpStatus : 0, isMeshError(err) ? err.responseFlag : '-');
    // grpc-js expects listener callbacks after the call that caused them has returned.
    queueMicrotask(() => {
      this.#s.listener.onReceiveMetadata(new Metadata());
      this.#s.listener.onReceiveStatus(errorStatus(err));
    });
  }

  reply(reply: LocalReply): void {
    if (this.#delivered) return;
    this.#delivered = true;
    const st = statusOfReply(reply);
    this.#report(st, undefined, undefined, reply.status, reply.flag);
    queueMicrotask(() => {
      this.#s.listener.onReceiveMetadata(new Metadata());
      this.#s.listener.onReceiveStatus(st);
    });
  }

  /** A fire-and-forget copy to the mirror's cluster, on this same channel; its answer is dropped. */
  mirror(target: RouteTarget): void {
    if (this.#clientStreaming) return;
    const cluster = target.cluster;
    if (!cluster.initialized) {
      cluster.whenInitialized().then(() => this.mirror(target));
      return;
    }
    const upstream = cluster.picker(target.subset)?.pick(cluster.hashOf(this.request));
    if (upstream === undefined) return;
    const s = this.#s;
    s.channel.upstreams.set(upstream.key, upstream);
    const metadata = this.request.metadata.clone();
    metadata.set(ENDPOINT_PIN, upstream.key);
    upstream.inFlight++;
    const stream = s.next({ ...s.options, host: `${this.request.authority}-shadow` });
    const wire = this.wire;
    stream.start(metadata, {
      onReceiveMetadata() {},
      // The shadow's sizes are nobody's: taken only so the notes do not linger.
      onReceiveMessage(message: unknown) {
        wire.takeReceived(message);
      },
      onReceiveStatus() {
        upstream.inFlight--;
      },
    });
    stream.sendMessage(this.#message);
    wire.takeSent(this.#message);
    stream.halfClose();
    if (this.#serverStreaming) stream.startRead();
  }

  // --- from the attempts ----------------------------------------------------

  attemptHeaders(a: GrpcAttempt, metadata: Metadata): void {
    a.headers = metadata;
  }

  attemptMessage(a: GrpcAttempt, message: unknown): void {
    if (this.#committed === a) {
      this.#s.listener.onReceiveMessage(message);
      return;
    }
    if (!this.#serverStreaming) {
      a.message = message;
      a.hasMessage = true;
      return;
    }
    // A stream's first message: this attempt answered, and the caller sees it from here on.
    a.grpcStatus = undefined;
    if (!this.onResponse(a, a)) return;
    this.#commit(a);
    this.#s.listener.onReceiveMessage(message);
    if (this.#readsWanted > 0) this.#readsWanted--;
    for (; this.#readsWanted > 0; this.#readsWanted--) a.stream?.startRead();
  }

  attemptStatus(a: GrpcAttempt, st: StatusObject): void {
    if (this.#committed === a) {
      this.#finishWith(st, a, undefined);
      return;
    }
    if (st.code !== status.OK && st.metadata.get(CONNECT_FAILED).length > 0) {
      // The balancer could not reach the endpoint: nothing was sent, so any call may go elsewhere.
      this.onError(a, connectFailure(a.upstream.key, st.details), false);
      return;
    }
    a.grpcStatus = st.code;
    a.trailers = st.metadata;
    if (!this.onResponse(a, a)) return;
    this.#commit(a);
    if (a.hasMessage) this.#s.listener.onReceiveMessage(a.message);
    this.#finishWith(st, a, undefined);
  }

  #commit(a: GrpcAttempt): void {
    this.#committed = a;
    this.#delivered = true;
    this.#s.listener.onReceiveMetadata(a.headers ?? new Metadata());
  }

  /** The committed attempt ended with `st`: the caller gets it, the pipeline releases the attempt. */
  #finishWith(st: StatusObject, a: GrpcAttempt, err: Error | undefined): void {
    if (this.#reported) return;
    this.#report(st, a, err, 200, err !== undefined && isMeshError(err) ? err.responseFlag : '-');
    if (st.code === status.OK) this.onEnd(a);
    else this.onCommittedError(a);
    this.#s.listener.onReceiveStatus(st);
  }

  #attemptMetadata(a: GrpcAttempt): Metadata {
    const metadata = this.request.metadata.clone();
    metadata.set(ENDPOINT_PIN, a.upstream.key);
    const trace = a.traceHeaders;
    if (trace !== undefined) for (let i = 0; i < trace.length; i += 2) metadata.set(trace[i]!, trace[i + 1]!);
    const mutation = a.requestHeaders;
    if (mutation !== undefined) {
      for (const name of mutation.remove) metadata.remove(name);
      for (const [name, value] of mutation.set) metadata.set(name, value);
      for (const [name, value] of mutation.add) metadata.add(name, value);
    }
    return metadata;
  }

  /** Tell the observer how the call ended, once. */
  #report(st: StatusObject, a: GrpcAttempt | undefined, error: Error | undefined, httpStatus: number, flags: string): void {
    if (this.#reported) return;
    this.#reported = true;
    // A call cancelled before it ran (a request stream the caller gave up on) has nothing to report.
    if (this.startedAt === 0) return;
    this.env.observer?.end(this, {
      status: httpStatus,
      grpcStatus: st.code,
      flags,
      // Wire bytes (messages plus their 5-byte prefixes); the response is what the caller got (grpc-wire-bytes.ts).
      requestBytes: this.#requestBytes,
      responseBytes: a?.responseBytes ?? 0,
      upstream: a?.upstream,
      error: error ?? (st.code === status.OK ? undefined : statusError(st)),
    });
  }
}

/**
 * The error for a call that ended with a status other than OK, in the shape
 * grpc-js gives the caller (its ServiceError: `code`, `details`, `metadata`,
 * and the same message), so telemetry names it by its status (`error.type`
 * `UNAVAILABLE`), as the RPC conventions ask. Made only for a failed call.
 */
function statusError(st: StatusObject): Error {
  const err = new Error(`${st.code} ${status[st.code]}: ${st.details}`) as Error & Pick<StatusObject, 'code' | 'details' | 'metadata'>;
  err.code = st.code;
  err.details = st.details;
  err.metadata = st.metadata;
  return err;
}
