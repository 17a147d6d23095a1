/**
 * The mesh's own metrics for what the pipeline decides: retries, skipped
 * retries, hedges, outlier ejections, breaker changes and local rejections.
 * Fed from the diagnostics_channel events in ../events.ts; this file only
 * turns one message into one metric update (MeshMetrics subscribes).
 *
 * Messages are read defensively: a missing or odd field becomes 'unknown'
 * rather than an exception inside the publisher's call.
 */

import { Gauge } from 'prom-client';
import type { ChannelName } from '../events.js';
import type { AnyRegistry } from './any-registry.js';
import { CappedCounter, LabelCap, labelValue } from './label-cap.js';
import { type CircuitStateReading, circuitStateValue } from './mesh-state.js';
import type { OverflowCounter } from './overflow-counter.js';

type Message = Readonly<Record<string, unknown>>;
type Handler = (message: unknown) => void;

/** Ejected endpoints tracked for the gauge; beyond this, new ejections are not tracked. */
const MAX_TRACKED_EJECTIONS = 10_000;

export class PipelineEventMetrics {
  readonly #retries: CappedCounter<'destination_service_name' | 'reason'>;
  readonly #skipped: CappedCounter<'destination_service_name' | 'why'>;
  readonly #hedges: CappedCounter<'destination_service_name'>;
  readonly #ejections: CappedCounter<'destination_service_name' | 'reason'>;
  readonly #transitions: CappedCounter<'destination_service_name' | 'from' | 'to'>;
  readonly #rejections: CappedCounter<'destination_service_name' | 'code'>;
  readonly #denials: CappedCounter<'code' | 'policy'>;
  readonly #circuitState: Gauge<'destination_service_name'>;
  readonly #circuitCap: LabelCap<'destination_service_name'>;
  /** service → endpoints ejected now: a set, so a repeated event cannot skew the gauge. */
  readonly #ejected = new Map<string, Set<string>>();
  #tracked = 0;

  constructor(registry: AnyRegistry, overflow: OverflowCounter, readCircuits: () => Iterable<CircuitStateReading> | undefined) {
    const counter = <L extends string>(name: string, help: string, labels: readonly L[]) =>
      new CappedCounter(registry, overflow, name, help, labels);
    this.#retries = counter('proxyless_retries_total', 'Retries scheduled, by failure reason.', ['destination_service_name', 'reason']);
    this.#skipped = counter(
      'proxyless_retries_skipped_total',
      'Failures that could have been retried but were not, by why (budget = retry budget exhausted).',
      ['destination_service_name', 'why'],
    );
    this.#hedges = counter('proxyless_hedges_total', 'Backup (hedged) requests sent.', ['destination_service_name']);
    this.#ejections = counter('proxyless_outlier_ejections_total', 'Endpoints ejected by outlier detection, by reason.', [
      'destination_service_name',
      'reason',
    ]);
    this.#transitions = counter('proxyless_circuit_transitions_total', 'Circuit breaker state changes.', [
      'destination_service_name',
      'from',
      'to',
    ]);
    this.#rejections = counter(
      'proxyless_local_rejections_total',
      'Calls refused locally before reaching an endpoint, by error code (overflow, rate limit, open circuit, deadline).',
      ['destination_service_name', 'code'],
    );
    this.#denials = counter(
      'proxyless_inbound_denials_total',
      'Inbound requests refused by JWT authentication (MESH_UNAUTHENTICATED) or authorization (MESH_PERMISSION_DENIED), by the deciding policy.',
      ['code', 'policy'],
    );

    const ejected = this.#ejected;
    const ejectedGauge: Gauge<'destination_service_name'> = new Gauge({
      name: 'proxyless_outlier_ejected_endpoints',
      help: 'Endpoints ejected by outlier detection now (ejections minus returns).',
      labelNames: ['destination_service_name'],
      registers: [registry],
      collect() {
        ejectedGauge.reset();
        for (const [service, endpoints] of ejected) {
          if (endpoints.size > 0) ejectedGauge.set({ destination_service_name: service }, endpoints.size);
        }
      },
    });

    this.#circuitCap = new LabelCap('proxyless_circuit_state', ['destination_service_name'], overflow);
    const cap = this.#circuitCap;
    const circuitGauge: Gauge<'destination_service_name'> = new Gauge({
      name: 'proxyless_circuit_state',
      help: 'Circuit breaker state: 0 closed, 1 half-open, 2 open.',
      labelNames: ['destination_service_name'],
      registers: [registry],
      collect() {
        // A state source reads breakers as they are now; events alone would
        // miss open -> half-open, which a breaker computes only when read.
        const readings = readCircuits();
        if (readings === undefined) return;
        circuitGauge.reset();
        for (const c of readings) {
          circuitGauge.set(cap.admit({ destination_service_name: labelValue(c.service) }), circuitStateValue(c.state));
        }
      },
    });
    this.#circuitState = circuitGauge;
  }

  /**
   * One handler per channel this counts, to subscribe by name. Request and
   * config events are not among them: the request metrics come from the
   * record directly, and subscribing would make every publisher build its
   * message.
   */
  readonly handlers: { readonly [K in ChannelName]?: Handler } = {
    retry: (m) => {
      const msg = asMessage(m);
      this.#retries.inc({ destination_service_name: labelValue(msg.service), reason: labelValue(msg.reason) });
    },
    retrySkipped: (m) => {
      const msg = asMessage(m);
      this.#skipped.inc({ destination_service_name: labelValue(msg.service), why: labelValue(msg.why) });
    },
    hedge: (m) => {
      this.#hedges.inc({ destination_service_name: labelValue(asMessage(m).service) });
    },
    ejection: (m) => {
      const msg = asMessage(m);
      const service = labelValue(msg.service);
      this.#ejections.inc({ destination_service_name: service, reason: labelValue(msg.reason) });
      this.#track(service, labelValue(msg.endpoint));
    },
    denied: (m) => {
      const msg = asMessage(m);
      // Policy names come from config, so the label stays bounded; '-' when no single policy decided.
      this.#denials.inc({ code: labelValue(msg.code), policy: msg.policy === undefined ? '-' : labelValue(msg.policy) });
    },
    ejectionReturn: (m) => {
      const msg = asMessage(m);
      const set = this.#ejected.get(labelValue(msg.service));
      if (set?.delete(labelValue(msg.endpoint))) this.#tracked--;
    },
    circuit: (m) => {
      const msg = asMessage(m);
      const service = labelValue(msg.service);
      this.#transitions.inc({ destination_service_name: service, from: labelValue(msg.from), to: labelValue(msg.to) });
      this.#circuitState.set(this.#circuitCap.admit({ destination_service_name: service }), circuitStateValue(msg.to));
    },
    rejected: (m) => {
      const msg = asMessage(m);
      this.#rejections.inc({ destination_service_name: labelValue(msg.service), code: labelValue(msg.code) });
    },
  };

  #track(service: string, endpoint: string): void {
    let set = this.#ejected.get(service);
    if (set === undefined) {
      if (this.#tracked >= MAX_TRACKED_EJECTIONS) return;
      set = new Set();
      this.#ejected.set(service, set);
    }
    if (set.has(endpoint) || this.#tracked >= MAX_TRACKED_EJECTIONS) return;
    set.add(endpoint);
    this.#tracked++;
  }
}

function asMessage(m: unknown): Message {
  return typeof m === 'object' && m !== null ? (m as Message) : {};
}
