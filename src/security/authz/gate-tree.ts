/**
 * A radix tree over the exact values and prefixes that gate policies (see
 * policy-list.ts), walked once along the request's path or principal. It
 * lists each policy whose gate the value meets once (a policy reached twice
 * is skipped by its `marks[id] === epoch`), for the caller to evaluate in
 * order.
 *
 * The walk takes bounds into the request string, so a path with a query or a
 * principal with `spiffe://` is read in place: no slice, no allocation.
 */

class Node {
  children: Map<number, Node> | undefined;
  /** Policies with a prefix ending here: met by any value that reaches this node. */
  prefixIds: number[] | undefined;
  /** Policies with an exact value ending here: met only when the value ends here too. */
  exactIds: number[] | undefined;

  constructor(public label: string) {}
}

export class GateTree {
  readonly #root = new Node('');

  add(key: string, id: number, exact: boolean): void {
    const node = this.#nodeFor(key);
    const ids = (exact ? node.exactIds : node.prefixIds) ?? [];
    ids.push(id);
    if (exact) node.exactIds = ids;
    else node.prefixIds = ids;
  }

  /**
   * Puts the ids of the policies whose gate text[start, end) meets into
   * `out` and returns how many. Every one is also marked, so when `out`
   * fills up the caller can fall back to reading `marks`; that returns -1.
   */
  collect(text: string, start: number, end: number, marks: Uint32Array, epoch: number, out: Int32Array): number {
    let node = this.#root;
    let pos = start;
    let n = 0;
    for (;;) {
      n = markAll(node.prefixIds, marks, epoch, out, n);
      if (pos === end) return markAll(node.exactIds, marks, epoch, out, n);
      const child = node.children?.get(text.charCodeAt(pos));
      if (child === undefined) return n;
      const label = child.label;
      if (pos + label.length > end || !text.startsWith(label, pos)) return n;
      pos += label.length;
      node = child;
    }
  }

  /** The node where `key` ends, splitting an edge when the key ends inside it. */
  #nodeFor(key: string): Node {
    let node = this.#root;
    let i = 0;
    while (i < key.length) {
      const c = key.charCodeAt(i);
      node.children ??= new Map();
      let child = node.children.get(c);
      if (child === undefined) {
        child = new Node(key.slice(i));
        node.children.set(c, child);
        return child;
      }
      const label = child.label;
      let k = 1;
      while (k < label.length && i + k < key.length && label.charCodeAt(k) === key.charCodeAt(i + k)) k++;
      if (k < label.length) {
        const mid = new Node(label.slice(0, k));
        child.label = label.slice(k);
        mid.children = new Map([[child.label.charCodeAt(0), child]]);
        node.children.set(c, mid);
        child = mid;
      }
      node = child;
      i += k;
    }
    return node;
  }
}

/** Marks and lists `ids`; `n` is -1 once `out` has overflowed, and stays so. */
function markAll(ids: readonly number[] | undefined, marks: Uint32Array, epoch: number, out: Int32Array, n: number): number {
  if (ids === undefined) return n;
  let count = n;
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (marks[id] === epoch) continue;
    marks[id] = epoch;
    if (count < 0) continue;
    if (count === out.length) count = -1;
    else out[count++] = id;
  }
  return count;
}
