/**
 * A named-extension registry owned by one Mesh instance (discovery providers
 * by scheme, load-balancer policies by name). Instances, not module globals,
 * so tests and multiple meshes in one process never share state.
 */
export class Registry<T> {
  readonly #kind: string;
  readonly #entries = new Map<string, T>();

  constructor(kind: string, initial?: Iterable<readonly [string, T]>) {
    this.#kind = kind;
    if (initial) for (const [name, value] of initial) this.#entries.set(name, value);
  }

  register(name: string, value: T): this {
    if (this.#entries.has(name)) throw new Error(`${this.#kind} "${name}" is already registered`);
    this.#entries.set(name, value);
    return this;
  }

  /** Replace or add; for users overriding a built-in. */
  set(name: string, value: T): this {
    this.#entries.set(name, value);
    return this;
  }

  get(name: string): T | undefined {
    return this.#entries.get(name);
  }

  has(name: string): boolean {
    return this.#entries.has(name);
  }

  names(): string[] {
    return [...this.#entries.keys()];
  }

  values(): IterableIterator<T> {
    return this.#entries.values();
  }
}
