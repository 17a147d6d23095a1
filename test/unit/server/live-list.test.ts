import { describe, expect, test } from 'vitest';
import { type LiveLink, LiveList } from '../../../src/server/live-list.js';

class Item implements LiveLink<Item> {
  liveNext: Item | undefined = undefined;
  livePrev: Item | undefined = undefined;
  constructor(readonly id: number) {}
}

function ids(list: LiveList<Item>): number[] {
  const out: number[] = [];
  list.forEach((i) => {
    out.push(i.id);
  });
  return out;
}

describe('LiveList', () => {
  test('holds what was added until it is removed, from the head, the middle and the tail', () => {
    const list = new LiveList<Item>();
    const items = [1, 2, 3, 4, 5].map((n) => new Item(n));
    for (const i of items) list.add(i);
    expect(ids(list).sort()).toEqual([1, 2, 3, 4, 5]);
    list.remove(items[4]!); // the head (last added)
    list.remove(items[2]!); // the middle
    list.remove(items[0]!); // the tail
    expect(ids(list).sort()).toEqual([2, 4]);
    list.remove(items[1]!);
    list.remove(items[3]!);
    expect(ids(list)).toEqual([]);
  });

  test('removing twice, or removing what was never added, changes nothing', () => {
    const list = new LiveList<Item>();
    const a = new Item(1);
    const b = new Item(2);
    list.add(a);
    list.add(b);
    list.remove(a);
    list.remove(a);
    list.remove(new Item(3));
    expect(ids(list)).toEqual([2]);
    list.add(a);
    expect(ids(list).sort()).toEqual([1, 2]);
  });

  test('forEach visits every item even when the callback removes the one it is given', () => {
    const list = new LiveList<Item>();
    for (let n = 1; n <= 4; n++) list.add(new Item(n));
    const seen: number[] = [];
    list.forEach((i) => {
      seen.push(i.id);
      list.remove(i);
    });
    expect(seen.sort()).toEqual([1, 2, 3, 4]);
    expect(ids(list)).toEqual([]);
  });
});
