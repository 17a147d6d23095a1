import { describe, expect, it } from 'vitest';
import { ID_POOL_BYTES, IdPool, PooledIdGenerator } from '../../../../src/telemetry/tracing/id-pool.js';

describe('IdPool', () => {
  it('hands out lowercase hex IDs of the right length, never all zero', () => {
    const pool = new IdPool();
    for (let i = 0; i < 1000; i++) {
      expect(pool.traceId()).toMatch(/^[0-9a-f]{32}$/);
      expect(pool.spanId()).toMatch(/^[0-9a-f]{16}$/);
    }
  });

  it('gives 100,000 distinct trace IDs and span IDs', () => {
    const pool = new IdPool();
    const traces = new Set<string>();
    const spans = new Set<string>();
    for (let i = 0; i < 100_000; i++) {
      traces.add(pool.traceId());
      spans.add(pool.spanId());
    }
    expect(traces.size).toBe(100_000);
    expect(spans.size).toBe(100_000);
  });

  it('fills its buffer once per pool-full of IDs, not once per ID', () => {
    const pool = new IdPool();
    expect(pool.refills).toBe(0);
    const pairs = Math.floor(ID_POOL_BYTES / 24);
    for (let i = 0; i < pairs; i++) {
      pool.traceId();
      pool.spanId();
    }
    expect(pool.refills).toBe(1);
    pool.traceId();
    expect(pool.refills).toBe(2);
  });

  it('never hands out the same bytes twice across a refill', () => {
    const pool = new IdPool(32);
    const ids = Array.from({ length: 50 }, () => pool.traceId());
    expect(new Set(ids).size).toBe(50);
    expect(pool.refills).toBe(25);
  });

  it('skips all-zero bytes, the spec\'s invalid ID, for trace and span IDs alike', () => {
    let fills = 0;
    // The first fill is all zero but for one byte at the end; later fills are 0x01 bytes.
    const pool = new IdPool(32, (buf) => {
      buf.fill(fills++ === 0 ? 0 : 1);
      if (fills === 1) buf[31] = 0xab;
    });
    // Bytes 0-15 are zero: skipped. Bytes 16-31 end in 0xab: taken.
    expect(pool.traceId()).toBe(`${'00'.repeat(15)}ab`);
    // The buffer is used up; the next fill has no zero ID in it.
    expect(pool.spanId()).toBe('01'.repeat(8));
    const zeros = new IdPool(16, (buf) => buf.fill(fills++ < 4 ? 0 : 2));
    expect(zeros.spanId()).toBe('02'.repeat(8));
  });

  it('refuses a buffer too small for a trace ID', () => {
    expect(() => new IdPool(8)).toThrow(RangeError);
  });

  it('is an SDK IdGenerator', () => {
    const gen = new PooledIdGenerator();
    expect(gen.generateTraceId()).toMatch(/^[0-9a-f]{32}$/);
    expect(gen.generateSpanId()).toMatch(/^[0-9a-f]{16}$/);
  });
});
