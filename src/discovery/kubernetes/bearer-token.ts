/**
 * The bearer token for API requests. A token file is re-read at most once
 * a minute (client-go's period) and at once after a 401: projected
 * service-account tokens are rotated by the kubelet well before they expire,
 * and a process that cached the first one would lose access after an hour.
 */
import { readFile } from 'node:fs/promises';
import type { Credentials } from './cluster-config.js';

const REREAD_MS = 60_000;

export class BearerToken {
  readonly #credentials: Credentials;
  readonly #now: () => number;
  #cached: string | undefined;
  #readAt = 0;

  constructor(credentials: Credentials, now: () => number = Date.now) {
    this.#credentials = credentials;
    this.#now = now;
  }

  /** The `authorization` header value, or undefined when there is no token. */
  async header(): Promise<string | undefined> {
    const c = this.#credentials;
    if (c.kind === 'none') return undefined;
    if (c.kind === 'token') return `Bearer ${c.token}`;
    if (this.#cached === undefined || this.#now() - this.#readAt >= REREAD_MS) {
      this.#cached = (await readFile(c.path, 'utf8')).trim();
      this.#readAt = this.#now();
    }
    return `Bearer ${this.#cached}`;
  }

  /** The server refused the token: read the file again on the next request. */
  invalidate(): void {
    this.#cached = undefined;
  }

  /** True when a re-read could yield another token. */
  get rotates(): boolean {
    return this.#credentials.kind === 'tokenFile';
  }
}
