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

/** Fills a buffer with random bytes; crypto's, but for tests. */
export type RandomFill = (buf: Buffer) => void;

export class IdPool {
  readonly #buf: Buffer;
  readonly #fill: RandomFill;
  #hex = '';
  #offset: number;
  /** How many times the buffer was filled (for tests and the bench). */
  refills = 0;

  constructor(bytes: number = ID_POOL_BYTES, fill: RandomFill = randomFillSync) {
    if (!Number.isInteger(bytes) || bytes < TRACE_ID_BYTES) {
      throw new RangeError(`IdPool needs at least ${TRACE_ID_BYTES} bytes, got ${bytes}`);
    }
    // Its own memory, not a slice of Node's shared pool, and filled only on first use.
    this.#buf = Buffer.allocUnsafeSlow(bytes);
    this.#fill = fill;
    this.#offset = bytes;
  }

  /** 32 lowercase hex characters, never all zero. */
  traceId(): string {
    return this.#take(TRACE_ID_BYTES);
  }

  /** 16 lowercase hex characters, never all zero. */
  spanId(): string {
    return this.#take(SPAN_ID_BYTES);
  }

  #take(n: number): string {
    let from: number;
    // All-zero is the spec's invalid ID; at 2^-64 this loop never runs twice. The bytes
    // are checked, not the hex: comparing a slice with a string constant cost ~300
    // instructions, a byte that is not zero (nearly always the first) a few.
    do {
      if (this.#offset + n > this.#buf.length) this.#refill();
      from = this.#offset;
      this.#offset = from + n;
    } while (this.#allZero(from, n));
    return this.#hex.slice(from * 2, (from + n) * 2);
  }

  #allZero(from: number, n: number): boolean {
    const buf = this.#buf;
    for (let i = from; i < from + n; i++) if (buf[i] !== 0) return false;
    return true;
  }

  #refill(): void {
    this.#fill(this.#buf);
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
