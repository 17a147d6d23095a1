/**
 * An EndpointListener that records what a discovery provider delivers;
 * take() awaits the next call not yet taken, on real time even while a test
 * fakes the clock (the API server's I/O is real).
 */
import type { Endpoint } from '../../../src/discovery/endpoint.js';
import type { EndpointListener } from '../../../src/discovery/source.js';
import type { MeshError } from '../../../src/errors.js';

const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;

export type DiscoveryEvent = { kind: 'next'; endpoints: readonly Endpoint[] } | { kind: 'error'; error: MeshError };

export class EndpointRecorder implements EndpointListener {
  readonly events: DiscoveryEvent[] = [];
  #taken = 0;
  #wake: (() => void) | undefined;

  next(endpoints: readonly Endpoint[]): void {
    this.events.push({ kind: 'next', endpoints });
    this.#wake?.();
  }

  error(error: MeshError): void {
    this.events.push({ kind: 'error', error });
    this.#wake?.();
  }

  get untaken(): number {
    return this.events.length - this.#taken;
  }

  async take(waitMs = 10_000): Promise<DiscoveryEvent> {
    while (this.#taken >= this.events.length) {
      await new Promise<void>((resolve, reject) => {
        const guard = realSetTimeout(() => {
          this.#wake = undefined;
          reject(new Error(`no discovery event within ${waitMs} ms; saw ${JSON.stringify(this.events.map(describe))}`));
        }, waitMs);
        this.#wake = () => {
          realClearTimeout(guard);
          this.#wake = undefined;
          resolve();
        };
      });
    }
    return this.events[this.#taken++]!;
  }

  async nextSet(): Promise<string[]> {
    const e = await this.take();
    if (e.kind !== 'next') throw new Error(`expected endpoints, got error: ${e.error.message}`);
    return e.endpoints.map((ep) => `${ep.key}${ep.health === 'healthy' ? '' : ` ${ep.health}`}`);
  }

  async nextError(): Promise<MeshError> {
    const e = await this.take();
    if (e.kind !== 'error') throw new Error(`expected an error, got endpoints ${e.endpoints.map((ep) => ep.key).join(',')}`);
    return e.error;
  }
}

function describe(e: DiscoveryEvent): string {
  return e.kind === 'next' ? `next[${e.endpoints.map((ep) => ep.key).join(',')}]` : `error(${e.error.code})`;
}

/** Resolves once `cond()` holds, polling on real time. */
export async function until(cond: () => boolean, what: string, waitMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > waitMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => realSetTimeout(r, 10));
  }
}

/** Waits `ms` of real time, even while a test fakes the clock. */
export function realDelay(ms: number): Promise<void> {
  return new Promise((r) => realSetTimeout(r, ms));
}
