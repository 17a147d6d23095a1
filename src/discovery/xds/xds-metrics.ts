/**
 * The xDS client's metrics, on the mesh's registry: updates accepted and
 * rejected per resource type, and the connection state read at scrape time.
 */
import { Counter, Gauge } from 'prom-client';
import type { AnyRegistry } from '../../telemetry/metrics/any-registry.js';
import type { XdsStatus } from './xds-status.js';

export class XdsMetrics {
  readonly #updates: Counter<'type' | 'result'>;

  constructor(registry: AnyRegistry, status: () => XdsStatus) {
    this.#updates = new Counter({
      name: 'proxyless_xds_updates_total',
      help: 'xDS responses by resource type (listener, route, cluster, endpoints), accepted (ACK) or rejected (NACK).',
      labelNames: ['type', 'result'],
      registers: [registry],
    });
    // Read at scrape time; the registry holds them.
    new Gauge({
      name: 'proxyless_xds_connected',
      help: '1 while the ADS stream to the control plane is up and has answered, else 0.',
      registers: [registry],
      collect(this: Gauge) {
        this.set(status().state === 'connected' ? 1 : 0);
      },
    });
    new Gauge({
      name: 'proxyless_xds_streams_opened',
      help: 'ADS streams opened since start: 1 plus the reconnects.',
      registers: [registry],
      collect(this: Gauge) {
        this.set(status().streamsOpened);
      },
    });
  }

  update(type: string, accepted: boolean): void {
    this.#updates.inc({ type, result: accepted ? 'accepted' : 'rejected' });
  }
}
