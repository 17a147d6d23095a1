/**
 * Turns a workload's label object into a small integer, so the per-request
 * series key is a short string instead of twenty-odd label values glued
 * together.
 *
 * Identity first: the pipeline hands the same WorkloadLabels object for the
 * same workload (this process's identity, a destination's cached labels), so
 * the common case is the object seen last (one comparison) or one WeakMap
 * lookup. A new object with known content
 * costs building one key string and a WeakMap insert. Bounded: past
 * `max` distinct contents, `id()` answers OVERFLOW and the caller folds the
 * request into its overflow series.
 */

export const OVERFLOW = -1;

export class LabelInterner<T extends object> {
  readonly #byRef = new WeakMap<T, number>();
  readonly #byContent = new Map<string, number>();
  readonly #values: (readonly string[])[] = [];
  readonly #extract: (labels: T) => string[];
  readonly #max: number;
  /** The object id() answered last, and its id: this process's own labels repeat on every request. */
  #lastRef: T | undefined;
  #lastId = OVERFLOW;

  constructor(extract: (labels: T) => string[], max: number) {
    this.#extract = extract;
    this.#max = max;
  }

  /** A stable id for these labels' content, or OVERFLOW when the table is full. */
  id(labels: T): number {
    if (labels === this.#lastRef) return this.#lastId;
    const id = this.#idOf(labels);
    this.#lastRef = labels;
    this.#lastId = id;
    return id;
  }

  #idOf(labels: T): number {
    const known = this.#byRef.get(labels);
    if (known !== undefined) return known;
    const values = this.#extract(labels);
    // Length-prefixed, so the key is exact whatever characters the values
    // contain; built once per new label object, not per request.
    let key = '';
    for (let i = 0; i < values.length; i++) {
      const v = String(values[i]);
      values[i] = v;
      key += `${v.length}:${v}`;
    }
    let id = this.#byContent.get(key);
    if (id === undefined) {
      if (this.#values.length >= this.#max) {
        this.#byRef.set(labels, OVERFLOW);
        return OVERFLOW;
      }
      id = this.#values.length;
      this.#values.push(Object.freeze(values));
      this.#byContent.set(key, id);
    }
    this.#byRef.set(labels, id);
    return id;
  }

  /** The label values an id stands for. */
  values(id: number): readonly string[] {
    return this.#values[id]!;
  }

  get size(): number {
    return this.#values.length;
  }
}
