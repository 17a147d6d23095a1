/**
 * Inbound admission: counts requests in flight and refuses new ones early,
 * before their handler runs, when the process is saturated. A sidecar can
 * only count connections; in-process we also see the event loop, the one
 * resource every request of a Node service shares. Refusing at once (503
 * with Retry-After, or 429 for the rate limit) lets the caller go elsewhere
 * while its deadline is still young, instead of queueing until it times out.
 *
 * The in-flight count is also what a graceful drain waits on.
 */
import type { InboundSettings } from '../config/inbound-schema.js';
import { TokenBucket } from '../resilience/rate-limit.js';
import { acquireLoopDelay, type LoopDelay } from './loop-delay.js';
import type { ShedReason } from './route-metrics.js';

export type AdmissionSettings = Pick<InboundSettings, 'maxConcurrentRequests' | 'maxEventLoopDelay' | 'rateLimit'>;

export class Admission {
  #inFlight = 0;
  #maxConcurrent = Number.POSITIVE_INFINITY;
  #maxDelayMs = Number.POSITIVE_INFINITY;
  #bucket: TokenBucket | undefined;
  #loop: LoopDelay | undefined;
  #idle: (() => void)[] = [];
  #closed = false;

  constructor(settings: AdmissionSettings = {}) {
    this.configure(settings);
  }

  /** New limits apply to the next request; the loop monitor runs only while a delay limit is set. */
  configure(settings: AdmissionSettings): void {
    if (this.#closed) return;
    this.#maxConcurrent = settings.maxConcurrentRequests ?? Number.POSITIVE_INFINITY;
    this.#maxDelayMs = settings.maxEventLoopDelay ?? Number.POSITIVE_INFINITY;
    const rl = settings.rateLimit;
    if (rl === undefined) this.#bucket = undefined;
    else if (this.#bucket === undefined) this.#bucket = new TokenBucket(rl);
    else this.#bucket.configure(rl);
    if (settings.maxEventLoopDelay !== undefined) this.#loop ??= acquireLoopDelay();
    else {
      this.#loop?.release();
      this.#loop = undefined;
    }
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Takes a slot (release() it when the response ends), or says why not. */
  tryEnter(): ShedReason | undefined {
    if (this.#inFlight >= this.#maxConcurrent) return 'concurrency';
    if (this.#loop !== undefined && this.#loop.delayMs() > this.#maxDelayMs) return 'event-loop';
    if (this.#bucket !== undefined && !this.#bucket.tryTake()) return 'rate-limit';
    this.#inFlight++;
    return undefined;
  }

  release(): void {
    if (--this.#inFlight > 0 || this.#idle.length === 0) return;
    const waiting = this.#idle;
    this.#idle = [];
    for (const resolve of waiting) resolve();
  }

  /** Resolves when no request is in flight. */
  whenIdle(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Stops the loop monitor; counting goes on, so a drain can still finish. */
  close(): void {
    this.#closed = true;
    this.#loop?.release();
    this.#loop = undefined;
  }
}
