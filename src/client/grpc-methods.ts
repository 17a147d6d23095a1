/**
 * Which gRPC methods are safe to send twice. gRPC's own answer lives in the
 * proto (`option idempotency_level = IDEMPOTENT` or `NO_SIDE_EFFECTS`);
 * handler decorators (`@Idempotent()`) and client options can add to it.
 * Retries and hedges of any other method need `retries.retryNonIdempotent`,
 * exactly as a POST does over HTTP.
 */

/** A method's descriptor as grpc-js and proto-loader give it (only what is read here). */
interface MethodLike {
  readonly path: string;
  readonly options?: Readonly<Record<string, unknown>> | undefined;
}

const SAFE_LEVELS = new Set(['IDEMPOTENT', 'NO_SIDE_EFFECTS', 1, 2]);

export class GrpcMethodTable {
  readonly #safe = new Map<string, boolean>();

  /** Record what a service definition's proto says about each method. */
  learn(definition: Readonly<Record<string, unknown>>): void {
    for (const method of Object.values(definition)) {
      const m = method as MethodLike | undefined;
      if (m === undefined || typeof m.path !== 'string') continue;
      // A decorator or an explicit declaration wins over the proto.
      if (this.#safe.has(m.path)) continue;
      const level = m.options?.idempotency_level;
      if (level !== undefined) this.#safe.set(m.path, SAFE_LEVELS.has(level as string | number));
    }
  }

  /** Declare a method (`/package.Service/Method`) safe or unsafe to retry, overriding the proto. */
  declare(path: string, idempotent: boolean): void {
    this.#safe.set(path, idempotent);
  }

  isIdempotent(path: string): boolean {
    return this.#safe.get(path) === true;
  }
}
