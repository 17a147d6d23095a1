/**
 * Which match entries a request path can possibly satisfy, found without
 * looking at every route. Exact paths are one Map lookup; prefixes live in a
 * radix tree walked once along the path, collecting the entries whose prefix
 * ends at each node passed; entries the index cannot narrow (a regex with no
 * literal start, or no uri condition) are always candidates, unless they
 * have an exact header condition to be found by instead (header-index.ts).
 *
 * The index answers with sorted lists of entry ids; the route table merges
 * them in id order, which is route order, so the first full match wins.
 * Case-insensitive entries (ignoreUriCase) get their own map and tree, keyed
 * by ASCII-lowercased text: paths on the wire are ASCII (anything else is
 * percent-encoded), so ASCII folding is the whole story.
 */

export type IndexKey =
  | { readonly kind: 'exact' | 'prefix'; readonly value: string; readonly fold: boolean }
  /** No uri to narrow by, but an exact header (lowercase name): the header index's (header-index.ts). */
  | { readonly kind: 'header'; readonly name: string; readonly value: string }
  | { readonly kind: 'always' };

class RadixNode {
  children: Map<number, RadixNode> | undefined;
  /** Entries whose prefix ends exactly here, ascending. */
  ids: number[] | undefined;
  constructor(public label: string) {}
}

export class PathIndex {
  readonly #exact = new Map<string, number[]>();
  readonly #exactFold = new Map<string, number[]>();
  readonly #prefixes = new RadixNode('');
  readonly #prefixesFold = new RadixNode('');
  readonly #always: number[] = [];
  #hasPrefixes = false;
  #hasFoldPrefixes = false;

  /** Entry ids are positions in `keys`; lists come out ascending because keys are added in order. */
  constructor(keys: readonly IndexKey[]) {
    keys.forEach((key, id) => {
      if (key.kind === 'always') this.#always.push(id);
      else if (key.kind === 'header') return;
      else if (key.kind === 'exact') {
        const map = key.fold ? this.#exactFold : this.#exact;
        const k = key.fold ? asciiLower(key.value) : key.value;
        const list = map.get(k);
        if (list === undefined) map.set(k, [id]);
        else list.push(id);
      } else if (key.fold) {
        insert(this.#prefixesFold, asciiLower(key.value), id);
        this.#hasFoldPrefixes = true;
      } else {
        insert(this.#prefixes, key.value, id);
        this.#hasPrefixes = true;
      }
    });
  }

  /**
   * Puts the candidate lists for `path` (no query string) into `out` from
   * position 0 and returns how many. `out` is the caller's scratch array,
   * reused across calls so a lookup allocates nothing.
   */
  collect(path: string, out: (readonly number[])[]): number {
    let n = 0;
    if (this.#exact.size > 0) {
      const hit = this.#exact.get(path);
      if (hit !== undefined) out[n++] = hit;
    }
    if (this.#exactFold.size > 0) {
      const hit = this.#exactFold.get(asciiLower(path));
      if (hit !== undefined) out[n++] = hit;
    }
    if (this.#hasPrefixes) n = walk(this.#prefixes, path, false, out, n);
    if (this.#hasFoldPrefixes) n = walk(this.#prefixesFold, path, true, out, n);
    if (this.#always.length > 0) out[n++] = this.#always;
    return n;
  }

  /** For tests and diagnostics: every candidate for `path`, in id order. */
  candidates(path: string): number[] {
    const lists: (readonly number[])[] = [];
    const n = this.collect(path, lists);
    return lists
      .slice(0, n)
      .flat()
      .sort((a, b) => a - b);
  }
}

/** Lowercases ASCII letters only; returns `s` itself when there are none. */
export function asciiLower(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
  }
  return s;
}

function insert(root: RadixNode, key: string, id: number): void {
  let node = root;
  let i = 0;
  for (;;) {
    if (i === key.length) {
      if (node.ids === undefined) node.ids = [id];
      else node.ids.push(id);
      return;
    }
    const c = key.charCodeAt(i);
    if (node.children === undefined) node.children = new Map();
    let child = node.children.get(c);
    if (child === undefined) {
      child = new RadixNode(key.slice(i));
      child.ids = [id];
      node.children.set(c, child);
      return;
    }
    const label = child.label;
    let k = 1;
    while (k < label.length && i + k < key.length && label.charCodeAt(k) === key.charCodeAt(i + k)) k++;
    if (k < label.length) {
      // The key leaves this edge part-way: split it at the divergence.
      const mid = new RadixNode(label.slice(0, k));
      child.label = label.slice(k);
      mid.children = new Map([[child.label.charCodeAt(0), child]]);
      node.children.set(c, mid);
      child = mid;
    }
    node = child;
    i += k;
  }
}

function walk(root: RadixNode, path: string, fold: boolean, out: (readonly number[])[], n: number): number {
  let count = n;
  if (root.ids !== undefined) out[count++] = root.ids;
  let node = root;
  let pos = 0;
  const end = path.length;
  while (pos < end) {
    const children = node.children;
    if (children === undefined) break;
    let c = path.charCodeAt(pos);
    if (fold && c >= 65 && c <= 90) c |= 0x20;
    const child = children.get(c);
    if (child === undefined) break;
    const label = child.label;
    if (pos + label.length > end) break;
    if (fold ? !foldedAt(path, label, pos) : !path.startsWith(label, pos)) break;
    pos += label.length;
    node = child;
    if (node.ids !== undefined) out[count++] = node.ids;
  }
  return count;
}

/** `path` at `pos` equals the lowercase `label`, ignoring ASCII case. */
function foldedAt(path: string, label: string, pos: number): boolean {
  for (let i = 0; i < label.length; i++) {
    let c = path.charCodeAt(pos + i);
    if (c >= 65 && c <= 90) c |= 0x20;
    if (c !== label.charCodeAt(i)) return false;
  }
  return true;
}
