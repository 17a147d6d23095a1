/**
 * The inbound pipeline, protocol-neutral like the outbound one: admission
 * (drain state, concurrency, event-loop delay, rate limit), then per
 * request an InboundExchange (trace, deadline, authentication,
 * authorization, route, record). The node server, the Express, Fastify and
 * Nest adapters (and later the gRPC server) are thin adapters over it: none
 * of them repeats a guard, telemetry or deadline step.
 *
 * One pipeline per mesh, shared by every server and adapter of that mesh,
 * so limits and the drain count all inbound work of the process together.
 */
import type { InboundSettings } from '../config/inbound-schema.js';
import { MeshError } from '../errors.js';
import { Admission } from './admission.js';
import { type ExchangeHost, type InboundCall, InboundExchange } from './inbound-exchange.js';
import type { InboundGuard } from './inbound-guard.js';
import type { InboundTelemetry } from './inbound-telemetry.js';
import { LiveList } from './live-list.js';
import type { ShedReason } from './route-metrics.js';

export interface InboundPipelineParts {
  readonly telemetry?: InboundTelemetry | undefined;
  /** Authentication and authorization; read per request, so config updates apply at once. */
  readonly guard?: (() => InboundGuard | undefined) | undefined;
  readonly settings?: InboundSettings | undefined;
}

const DEFAULT_RETRY_AFTER_MS = 1000;

function drainOne(ex: InboundExchange): void {
  ex.onDrain?.(ex);
}

export class InboundPipeline {
  readonly telemetry: InboundTelemetry | undefined;
  readonly #guard: (() => InboundGuard | undefined) | undefined;
  readonly #admission: Admission;
  readonly #host: ExchangeHost;
  /** Admitted requests in flight, so a drain can reach the ones whose response has not started. */
  readonly #live = new LiveList<InboundExchange>();
  #retryAfter = '1';
  #draining = false;

  constructor(parts: InboundPipelineParts = {}) {
    this.telemetry = parts.telemetry;
    this.#guard = parts.guard;
    this.#admission = new Admission();
    const admission = this.#admission;
    const live = this.#live;
    this.#host = {
      telemetry: parts.telemetry,
      release: (ex) => {
        live.remove(ex);
        admission.release();
      },
    };
    if (parts.settings !== undefined) this.configure(parts.settings);
  }

  /** New limits from a config update; apply to the next request. */
  configure(settings: Partial<InboundSettings> | undefined): void {
    const s = settings ?? {};
    this.#admission.configure(s);
    this.#retryAfter = String(Math.max(1, Math.ceil((s.retryAfter ?? DEFAULT_RETRY_AFTER_MS) / 1000)));
  }

  /** Starts one request: admitted (run the handler) or refused (`exchange.refusal`). */
  begin(call: InboundCall): InboundExchange {
    const reason = this.#admission.tryEnter();
    const refusal = reason === undefined ? undefined : this.#refuse(reason);
    const ex = new InboundExchange(this.#host, call, refusal, this.#guard?.());
    if (refusal === undefined) this.#live.add(ex);
    return ex;
  }

  #refuse(reason: ShedReason): MeshError {
    this.telemetry?.routes?.shed(reason);
    if (reason === 'rate-limit') return new MeshError('MESH_RATE_LIMITED', 'the inbound rate limit has no token for this request');
    return new MeshError(
      'MESH_OVERLOADED',
      reason === 'concurrency' ? 'the server is at its limit of concurrent requests' : 'the server is overloaded: its event loop is running late',
      { details: { reason } },
    );
  }

  /** The `Retry-After` value (seconds) for shed requests. */
  get retryAfter(): string {
    return this.#retryAfter;
  }

  get inFlight(): number {
    return this.#admission.inFlight;
  }

  /** True once a drain started: HTTP/1.1 responses carry `Connection: close`. */
  get draining(): boolean {
    return this.#draining;
  }

  /** Marks the drain; resolves when no admitted request is in flight. */
  drain(): Promise<void> {
    this.#draining = true;
    this.#live.forEach(drainOne);
    return this.#admission.whenIdle();
  }

  close(): void {
    this.#draining = true;
    this.#admission.close();
  }
}
