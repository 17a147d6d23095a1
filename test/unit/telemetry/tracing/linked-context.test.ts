import { type Context, createContextKey, ROOT_CONTEXT } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { LinkedContext } from '../../../../src/telemetry/tracing/linked-context.js';

const keys = Array.from({ length: 6 }, (_, i) => createContextKey(`key ${i}`));

/** A deterministic sequence of operations (xorshift), so a failure replays. */
function* operations(seed: number, count: number): Generator<{ op: 'set' | 'delete'; key: symbol; value: number }> {
  let x = seed;
  for (let i = 0; i < count; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const r = x >>> 0;
    yield { op: r % 5 === 0 ? 'delete' : 'set', key: keys[r % keys.length]!, value: i };
  }
}

function apply(ctx: Context, op: { op: 'set' | 'delete'; key: symbol; value: number }): Context {
  return op.op === 'set' ? ctx.setValue(op.key, op.value) : ctx.deleteValue(op.key);
}

describe('LinkedContext', () => {
  it("reads as the api's contexts do after any sequence of sets and deletes, past the fold depth too", () => {
    for (const seed of [1, 7, 42, 1234]) {
      // Both start over a base that already holds values, as a chain started on an app's context does.
      const base = ROOT_CONTEXT.setValue(keys[0]!, 'base 0').setValue(keys[5]!, 'base 5');
      let api: Context = base;
      let linked: Context = LinkedContext.from(base);
      const snapshots: Array<[Context, Context]> = [];
      for (const op of operations(seed, 100)) {
        api = apply(api, op);
        linked = apply(linked, op);
        snapshots.push([api, linked]);
        for (const key of keys) expect(linked.getValue(key)).toBe(api.getValue(key));
      }
      // Contexts are immutable: every earlier one still reads as it did.
      for (const [a, l] of snapshots) for (const key of keys) expect(l.getValue(key)).toBe(a.getValue(key));
    }
  });

  it('starts a chain only once, and keeps the context it started from untouched', () => {
    const base = ROOT_CONTEXT.setValue(keys[1]!, 'one');
    const start = LinkedContext.from(base);
    expect(LinkedContext.from(start)).toBe(start);
    const derived = start.setValue(keys[1]!, 'two').setValue(keys[2]!, 'three');
    expect(derived).toBeInstanceOf(LinkedContext);
    expect(derived.getValue(keys[1]!)).toBe('two');
    expect(base.getValue(keys[1]!)).toBe('one');
    expect(base.getValue(keys[2]!)).toBeUndefined();
    expect(derived.deleteValue(keys[1]!).getValue(keys[1]!)).toBeUndefined();
  });
});
