/**
 * The undici handler for one attempt on one endpoint. It reports the
 * attempt's fate to the call and, only once the call commits to this
 * attempt, passes the response through to the caller's handler untouched:
 * the body is never buffered or copied. A response the call does not want
 * (a retried 503, a hedge that lost) is drained in the background, up to a
 * small limit, so its keep-alive connection survives.
 */
import type { Dispatcher } from 'undici';
import { isMeshError, MeshError } from '../errors.js';
import { CallAttempt } from './call.js';
import type { RouteTarget } from './call-policy.js';
import type { HttpCall } from './http.js';
import type { Upstream } from './upstream.js';

type Controller = Dispatcher.DispatchController;

/** A discarded response larger than this is cut off instead of drained. */
const DRAIN_LIMIT = 64 * 1024;

/** undici's own errors that describe the caller's request, not the endpoint: passed on as they are. */
const UNTRANSLATED_CODES = new Set([
  'UND_ERR_INVALID_ARG',
  'UND_ERR_NOT_SUPPORTED',
  'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_RES_EXCEEDED_MAX_SIZE',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

enum Mode {
  Deciding = 0,
  Committed = 1,
  Discarding = 2,
  Cancelled = 3,
}

/**
 * The attempt itself (its pipeline state is the CallAttempt it extends),
 * and also its response outcome for the classifier (kind, status, header),
 * so an attempt is one object and judging a response allocates nothing.
 */
export class HttpAttempt extends CallAttempt implements Dispatcher.DispatchHandler {
  declare readonly call: HttpCall;
  readonly kind = 'response' as const;
  readonly grpcStatus = undefined;
  status = 0;
  controller: Controller | undefined;
  #mode = Mode.Deciding;
  /** 0 queued or connecting, 1 request written, 2 response started. */
  #phase = 0;
  #drained = 0;
  #cancelReason: Error | undefined;
  #headers: Record<string, string | string[] | undefined> | undefined;

  constructor(
    call: HttpCall,
    upstream: Upstream,
    target: RouteTarget,
    n: number,
    hedge: boolean,
    path: string,
    remainingMs: number | undefined,
    now: number,
    isRetry: boolean,
  ) {
    super(upstream, target, n, hedge, path, remainingMs, now, isRetry, call);
  }

  /** Stop this attempt; its later callbacks are ignored. */
  cancel(reason: Error): void {
    if (this.#mode === Mode.Cancelled) return;
    this.#mode = Mode.Cancelled;
    this.#cancelReason = reason;
    this.controller?.abort(reason);
  }

  /** End the committed response with `err` (deadline or caller abort while streaming). */
  failCommitted(err: Error): void {
    this.#cancelReason = err;
    if (this.controller !== undefined) this.controller.abort(err);
    else this.call.deliverError(err);
  }

  onRequestStart(controller: Controller, _context: unknown): void {
    this.controller = controller;
    if (this.#mode === Mode.Cancelled) {
      controller.abort(this.#cancelReason ?? new MeshError('MESH_ABORTED', 'attempt cancelled'));
      return;
    }
    this.#phase = 1;
    this.call.onSent(this);
  }

  onRequestUpgrade(controller: Controller, statusCode: number, headers: never, socket: never): void {
    if (this.#mode === Mode.Cancelled) return;
    this.#phase = 2;
    this.status = statusCode;
    this.#headers = headers;
    if (!this.call.onResponse(this, this)) return;
    this.#mode = Mode.Committed;
    this.call.deliverUpgrade(controller, statusCode, headers, socket);
    this.call.onEnd(this);
  }

  onResponseStart(_controller: Controller, statusCode: number, headers: never, statusMessage?: string): void {
    if (statusCode < 200 || this.#mode === Mode.Cancelled) return;
    this.#phase = 2;
    this.#headers = headers;
    this.status = statusCode;
    if (this.call.onResponse(this, this)) {
      this.#mode = Mode.Committed;
      this.call.deliverHead(this, statusCode, headers, statusMessage);
    } else if (this.#mode === Mode.Deciding) {
      this.#mode = Mode.Discarding;
    }
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    if (this.#mode === Mode.Committed) {
      this.call.deliverData(chunk);
      return;
    }
    this.#drained += chunk.length;
    if (this.#drained > DRAIN_LIMIT && this.#mode === Mode.Discarding) {
      this.#mode = Mode.Cancelled;
      controller.abort(new MeshError('MESH_ABORTED', 'discarded response too large to drain'));
    }
  }

  onResponseEnd(_controller: Controller, trailers: never): void {
    if (this.#mode === Mode.Committed) {
      this.call.onEnd(this);
      this.call.deliverEnd(trailers);
    }
    this.#forget();
  }

  onResponseError(_controller: Controller, err: Error): void {
    switch (this.#mode) {
      case Mode.Committed:
        this.call.onCommittedError(this);
        this.call.deliverError(this.#cancelReason ?? this.#translate(err));
        break;
      case Mode.Deciding:
        this.call.onError(this, this.#translate(err), this.#phase === 2);
        break;
      default:
        break;
    }
    this.#forget();
  }

  /**
   * undici is done with this attempt: drop what it points to. undici's
   * request object still points here, and V8 may have put that object in
   * the old generation (allocation-site pretenuring, common at high
   * concurrency); until a full GC finds it dead, everything reachable from
   * this attempt survives every scavenge. Measured with bench:gc-modes.
   */
  #forget(): void {
    this.controller = undefined;
    this.#headers = undefined;
  }

  /** A response header (lowercase name), first value: Retry-After, and whatever a custom classifier reads. */
  header(name: string): string | undefined {
    const v = this.#headers?.[name];
    return Array.isArray(v) ? v[0] : v;
  }

  #translate(err: Error): Error {
    const code = (err as { code?: string }).code ?? err.name;
    // Already typed where it was raised (a peer that failed SPIFFE verification).
    if (UNTRANSLATED_CODES.has(code) || isMeshError(err)) return err;
    const { cluster, upstream } = this;
    const where = `${cluster.name} endpoint ${upstream.key}`;
    const details = { service: cluster.name, endpoint: upstream.key, responseStarted: this.#phase === 2 };
    if (this.#phase === 0) {
      return new MeshError('MESH_CONNECT_FAILURE', `connecting to ${where} failed (${code})`, { cause: err, details });
    }
    return new MeshError(
      'MESH_UPSTREAM_RESET',
      `${where} reset the connection ${this.#phase === 1 ? 'before responding' : 'mid-response'} (${code})`,
      // Only a reset before any response byte is safe to retry.
      { cause: err, retryable: this.#phase === 1, details },
    );
  }
}
