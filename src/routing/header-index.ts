/**
 * The path index's partner for entries it cannot narrow by uri: an entry
 * with no uri condition (or a regex with no literal start) but an exact
 * header condition, such as Istio's classic `end-user: exact: jason` or a
 * canary cohort header, is filed under that header's name and value. A
 * request then costs one header read per distinct indexed name and one Map
 * lookup, instead of a header read and compare per such entry: ten routes
 * keyed on `x-beta: b0` … `x-beta: b9` cost one read, and a request without
 * the header gets no candidates from them at all.
 *
 * The entry still checks all its conditions when it comes up as a
 * candidate, so the index only ever narrows; it never decides a match.
 */
import type { IndexKey } from './path-index.js';
import type { RouteRequest } from './route-match.js';

export class HeaderIndex {
  readonly #names: string[] = [];
  /** Parallel to #names: header value → entry ids, ascending. */
  readonly #byName: Map<string, number[]>[] = [];

  /** Entry ids are positions in `keys`; keys of other kinds are the path index's. */
  constructor(keys: readonly IndexKey[]) {
    keys.forEach((key, id) => {
      if (key.kind !== 'header') return;
      let slot = this.#names.indexOf(key.name);
      if (slot < 0) {
        slot = this.#names.push(key.name) - 1;
        this.#byName.push(new Map());
      }
      const values = this.#byName[slot]!;
      const value = key.value;
      const list = values.get(value);
      if (list === undefined) values.set(value, [id]);
      else list.push(id);
    });
  }

  get empty(): boolean {
    return this.#names.length === 0;
  }

  /**
   * Appends the candidate lists for `req` to `out` from position `n` and
   * returns the new count. Lists are ascending, as the route table's merge needs.
   */
  collect(req: RouteRequest, out: (readonly number[])[], n: number): number {
    let count = n;
    const names = this.#names;
    for (let i = 0; i < names.length; i++) {
      const value = req.header(names[i]!);
      if (value === undefined) continue;
      const hit = this.#byName[i]!.get(value);
      if (hit !== undefined) out[count++] = hit;
    }
    return count;
  }
}
