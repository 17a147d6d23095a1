/**
 * Request bodies, made replayable when a retry, hedge or mirror might need
 * to send them again. Strings and byte arrays already are. A stream (or
 * fetch's async iterable) is read into memory up to the replay cap before
 * the first attempt, as Envoy buffers for retries; past the cap the body
 * goes out once as buffered prefix plus the rest of the stream, and the call
 * knows it cannot be retried, and why.
 */
import { Readable } from 'node:stream';

export interface PreparedBody {
  /** What each attempt sends. A stream body is single-use: only one attempt gets it. */
  readonly body: unknown;
  /** Undefined when `body` may be sent again; else why not. */
  readonly replayBlocker: string | undefined;
}

export function isReplayable(body: unknown): boolean {
  return body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array;
}

function isAsyncIterable(body: unknown): body is AsyncIterable<unknown> {
  return typeof body === 'object' && body !== null && Symbol.asyncIterator in body;
}

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  return Buffer.from(String(chunk));
}

/** Read up to `cap` bytes; a body that fits becomes one Buffer, a larger one a single-use stream. */
export async function prepareBody(body: unknown, cap: number): Promise<PreparedBody> {
  if (isReplayable(body)) return { body, replayBlocker: undefined };
  if (!isAsyncIterable(body)) return { body, replayBlocker: 'body-not-replayable' };
  const iterator = body[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let size = 0;
  for (;;) {
    const next = await iterator.next();
    if (next.done) return { body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size), replayBlocker: undefined };
    const chunk = toBuffer(next.value);
    chunks.push(chunk);
    size += chunk.length;
    if (size > cap) break;
  }
  async function* rest(): AsyncGenerator<Buffer> {
    yield* chunks;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield toBuffer(next.value);
    }
  }
  return { body: Readable.from(rest(), { objectMode: false }), replayBlocker: 'body-over-replay-cap' };
}
