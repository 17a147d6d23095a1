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

  it('refuses a buffer too small for a trace ID', () => {
    expect(() => new IdPool(8)).toThrow(RangeError);
  });

  it('is an SDK IdGenerator', () => {
    const gen = new PooledIdGenerator();
    expect(gen.generateTraceId()).toMatch(/^[0-9a-f]{32}$/);
    expect(gen.generateSpanId()).toMatch(/^[0-9a-f]{16}$/);
  });
});
