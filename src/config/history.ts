/**
 * The last config updates, accepted and rejected, for status views (the
 * admin dashboard's "recent changes"). A ring: old entries fall off.
 */
export interface ConfigHistoryEntry {
  /** Epoch ms. */
  readonly time: number;
  readonly source: string;
  /** The config version in force after the update (unchanged by a rejection). */
  readonly version: number;
  readonly accepted: boolean;
  readonly error?: string;
}

export class ConfigHistory {
  readonly #limit: number;
  #entries: ConfigHistoryEntry[] = [];

  constructor(limit = 20) {
    this.#limit = limit;
  }

  record(entry: ConfigHistoryEntry): void {
    this.#entries.push(entry);
    if (this.#entries.length > this.#limit) this.#entries = this.#entries.slice(-this.#limit);
  }

  /** Oldest first. */
  entries(): readonly ConfigHistoryEntry[] {
    return this.#entries;
  }
}
