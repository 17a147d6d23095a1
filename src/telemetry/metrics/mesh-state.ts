/**
 * What the mesh tells its metrics about its current state. Read only inside
 * a prom-client `collect()` callback, i.e. when `/metrics` is scraped, so
 * keeping these gauges costs nothing between scrapes.
 */

export type EndpointHealth = 'healthy' | 'unhealthy' | 'ejected' | 'draining';

export interface EndpointHealthCount {
  /** The destination's service name (a config name, bounded). */
  readonly service: string;
  readonly health: EndpointHealth;
  readonly count: number;
}

export type CircuitStateName = 'closed' | 'half-open' | 'open';

export interface CircuitStateReading {
  readonly service: string;
  readonly state: CircuitStateName;
}

export interface MeshStateSource {
  /** Endpoint counts by service and health; a service/health pair listed twice is summed. */
  endpoints(): Iterable<EndpointHealthCount>;
  /**
   * Breaker states read now. Optional: without it the circuit gauge follows
   * `proxyless:circuit` events, which miss an open → half-open change that
   * nobody has read yet (the breaker computes it on read).
   */
  circuits?(): Iterable<CircuitStateReading>;
}

/** The gauge's encoding: 0 closed, 1 half-open, 2 open; -1 for a state it does not know. */
export function circuitStateValue(state: unknown): number {
  switch (state) {
    case 'closed':
      return 0;
    case 'half-open':
      return 1;
    case 'open':
      return 2;
    default:
      return -1;
  }
}
