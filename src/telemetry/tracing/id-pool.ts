/**
 * Trace and span IDs from a pooled random buffer. Each call into the
 * crypto RNG costs microseconds however few bytes it returns (about 5 µs
 * here for 16 bytes or for 4 KiB), so IDs are cut from one 8 KiB fill
 * instead: 341 trace + span ID pairs per RNG call, and never a call per
 * request.
 *
 * The buffer is hex-encoded once per fill and IDs are slices of that
 * string: V8 makes a slice of this length a view, not a copy, which is
 * about three times cheaper than `toString('hex')` per ID. A view keeps its
 * 16 KiB parent alive while it lives; spans are short-lived, so that is a
 * few parents at most.
 */
import { randomFillSync } from 'node:crypto';

export const ID_POOL_BYTES = 8192;
const TRACE_ID_BYTES = 16;
const SPAN_ID_BYTES = 8;
const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_SPAN_ID = '0'.repeat(16);

export class IdPool {
  readonly #buf: Buffer;
  #hex = '';
  #offset: number;
  /** How many times the buffer was filled (for tests and the bench). */
  refills = 0;

  constructor(bytes: number = ID_POOL_BYTES) {
    if (!Number.isInteger(bytes) || bytes < TRACE_ID_BYTES) {
      throw new RangeError(`IdPool needs at least ${TRACE_ID_BYTES} bytes, got ${bytes}`);
    }
    // Its own memory, not a slice of Node's shared pool, and filled only on first use.
    this.#buf = Buffer.allocUnsafeSlow(bytes);
    this.#offset = bytes;
  }

  /** 32 lowercase hex characters, never all zero. */
  traceId(): string {
    let id = this.#take(TRACE_ID_BYTES);
    // All-zero is the spec's invalid ID; at 2^-128 this loop never runs twice.
    while (id === ZERO_TRACE_ID) id = this.#take(TRACE_ID_BYTES);
    return id;
  }

  /** 16 lowercase hex characters, never all zero. */
  spanId(): string {
    let id = this.#take(SPAN_ID_BYTES);
    while (id === ZERO_SPAN_ID) id = this.#take(SPAN_ID_BYTES);
    return id;
  }

  #take(n: number): string {
    if (this.#offset + n > this.#buf.length) this.#refill();
    const from = this.#offset;
    this.#offset = from + n;
    return this.#hex.slice(from * 2, (from + n) * 2);
  }

  #refill(): void {
    randomFillSync(this.#buf);
    this.#hex = this.#buf.toString('hex');
    this.#offset = 0;
    this.refills++;
  }
}

/**
 * The OpenTelemetry SDK's `IdGenerator` shape (generateTraceId and
 * generateSpanId), declared here so the core needs no SDK types; pass it as
 * `idGenerator` to a tracer provider.
 */
export class PooledIdGenerator {
  readonly #pool: IdPool;

  constructor(pool: IdPool = new IdPool()) {
    this.#pool = pool;
  }

  generateTraceId(): string {
    return this.#pool.traceId();
  }

  generateSpanId(): string {
    return this.#pool.spanId();
  }
}
