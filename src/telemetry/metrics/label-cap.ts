/**
 * A cap on the distinct label sets one of the mesh's own metrics may hold.
 * Their values come from config names and small enums, so the cap is a
 * safety net: a bug that put an unbounded value in a label would fold into
 * `overflow` instead of growing the scrape without limit.
 */

import { Counter } from 'prom-client';
import type { AnyRegistry } from './any-registry.js';
import { OVERFLOW_LABEL, type OverflowCounter } from './overflow-counter.js';

export const DEFAULT_LABEL_CAP = 1_000;

export class LabelCap<L extends string> {
  readonly #seen = new Set<string>();
  readonly #overflowLabels: Record<L, string>;

  constructor(
    private readonly metric: string,
    names: readonly L[],
    private readonly overflow: OverflowCounter,
    private readonly max = DEFAULT_LABEL_CAP,
  ) {
    this.#overflowLabels = Object.fromEntries(names.map((n) => [n, OVERFLOW_LABEL])) as Record<L, string>;
  }

  /** The labels to record under: these, or all-`overflow` once the cap is reached. */
  admit(labels: Record<L, string>): Record<L, string> {
    // Label order is fixed by the caller's object literal, so values alone key it.
    const key = Object.values(labels).join('\u0000');
    if (this.#seen.has(key)) return labels;
    if (this.#seen.size < this.max) {
      this.#seen.add(key);
      return labels;
    }
    this.overflow.inc({ metric: this.metric });
    return this.#overflowLabels;
  }
}

/** A label value from an event field: strings as they are, anything else 'unknown'. */
export function labelValue(value: unknown): string {
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return 'unknown';
}

/** A prom-client Counter whose label sets go through a LabelCap. */
export class CappedCounter<L extends string> {
  readonly #counter: Counter<L>;
  readonly #cap: LabelCap<L>;

  constructor(registry: AnyRegistry, overflow: OverflowCounter, name: string, help: string, labelNames: readonly L[]) {
    this.#counter = new Counter({ name, help, labelNames, registers: [registry] });
    this.#cap = new LabelCap(name, labelNames, overflow);
  }

  inc(labels: Record<L, string>): void {
    this.#counter.inc(this.#cap.admit(labels) as Partial<Record<L, string>>);
  }
}
