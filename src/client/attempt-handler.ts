/**
 * Wraps the caller's undici handler for one attempt on one endpoint: keeps
 * the endpoint's in-flight count and latency estimate true, and turns
 * transport failures into typed mesh errors. It never buffers the body;
 * every callback passes straight through.
 */
import type { Dispatcher } from 'undici';
import { MeshError } from '../errors.js';
import type { Upstream } from './upstream.js';

type Handler = Dispatcher.DispatchHandler;
type Controller = Dispatcher.DispatchController;

const ABORT_NAMES = new Set(['AbortError', 'RequestAbortedError']);
/** The caller's own mistakes and undici's timeouts keep undici's error. */
const UNTRANSLATED_CODES = new Set([
  'UND_ERR_INVALID_ARG',
  'UND_ERR_NOT_SUPPORTED',
  'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_RES_EXCEEDED_MAX_SIZE',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

export class AttemptHandler implements Handler {
  readonly #inner: Handler;
  readonly #upstream: Upstream;
  readonly #service: string;
  readonly #start: number;
  /** 0 queued/connecting, 1 request written, 2 response started, 3 finished. */
  #phase = 0;

  constructor(inner: Handler, upstream: Upstream, service: string) {
    this.#inner = inner;
    this.#upstream = upstream;
    this.#service = service;
    this.#start = performance.now();
    upstream.inFlight++;
  }

  onRequestStart(controller: Controller, context: unknown): void {
    this.#phase = 1;
    this.#inner.onRequestStart?.(controller, context);
  }

  onRequestUpgrade(controller: Controller, statusCode: number, headers: never, socket: never): void {
    this.#finish(false);
    this.#inner.onRequestUpgrade?.(controller, statusCode, headers, socket);
  }

  onResponseStart(controller: Controller, statusCode: number, headers: never, statusMessage?: string): void {
    if (this.#phase < 2) {
      this.#phase = 2;
      const now = performance.now();
      this.#upstream.observe(now - this.#start, now, false);
    }
    this.#inner.onResponseStart?.(controller, statusCode, headers, statusMessage);
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    this.#inner.onResponseData?.(controller, chunk);
  }

  onResponseEnd(controller: Controller, trailers: never): void {
    this.#finish(false);
    this.#inner.onResponseEnd?.(controller, trailers);
  }

  onResponseError(controller: Controller, err: Error): void {
    const phase = this.#phase;
    // The caller giving up (any signal reason, AbortSignal.timeout included)
    // says nothing about the endpoint: it is not charged, and the caller gets
    // its own reason back, as undici's contract promises.
    if (controller?.aborted === true || ABORT_NAMES.has(err.name)) {
      this.#finish(false);
      this.#inner.onResponseError?.(controller, err);
      return;
    }
    this.#finish(phase < 2);
    this.#inner.onResponseError?.(controller, this.#translate(err, phase));
  }

  onBodySent(chunk: Buffer): void {
    this.#inner.onBodySent?.(chunk);
  }

  onRequestSent(): void {
    this.#inner.onRequestSent?.();
  }

  onResponseStarted(): void {
    this.#inner.onResponseStarted?.();
  }

  #finish(failed: boolean): void {
    if (this.#phase === 3) return;
    this.#upstream.inFlight--;
    if (failed) {
      const now = performance.now();
      this.#upstream.observe(now - this.#start, now, true);
    }
    this.#phase = 3;
  }

    #translate(err: Error, phase: number): Error {
    const code = (err as { code?: string }).code ?? err.name;
    if (UNTRANSLATED_CODES.has(code)) return err;
    const where = `${this.#service} endpoint ${this.#upstream.key}`;
    if (phase === 0) {
      return new MeshError('MESH_CONNECT_FAILURE', `connecting to ${where} failed (${code})`, {
        cause: err,
        details: { service: this.#service, endpoint: this.#upstream.key },
      });
    }
    return new MeshError(
      'MESH_UPSTREAM_RESET',
      `${where} reset the connection ${phase === 1 ? 'before responding' : 'mid-response'} (${code})`,
      {
        cause: err,
        // Only a reset before any response byte is safe to retry.
        retryable: phase === 1,
        details: { service: this.#service, endpoint: this.#upstream.key, responseStarted: phase === 2 },
      },
    );
  }
}
