/**
 * How the mesh dials an endpoint, plain or TLS: the connect timeout and
 * when TCP keepalive starts probing an idle connection. One place, so the
 * plain and TLS connectors cannot drift apart.
 */
export interface DialOptions {
  readonly timeoutMs: number;
  /** Idle ms before the first keepalive probe; undici's default (60 s) when undefined. */
  readonly keepAliveProbeDelay?: number | undefined;
}

/** The options undici's buildConnector takes for them. */
export function dialOptions(dial: DialOptions): { timeout: number; keepAlive: true; keepAliveInitialDelay?: number } {
  return {
    timeout: dial.timeoutMs,
    // Keepalive stays on, as undici has it; only its idle time is configurable.
    keepAlive: true,
    ...(dial.keepAliveProbeDelay !== undefined ? { keepAliveInitialDelay: dial.keepAliveProbeDelay } : {}),
  };
}
