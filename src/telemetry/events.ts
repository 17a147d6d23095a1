/**
 * What the pipeline decides, published on diagnostics_channel so metrics,
 * logs and tests can watch retries, hedges, ejections and breaker changes
 * without the pipeline knowing who listens. Publishing costs one boolean
 * check when nobody subscribes. docs/metrics.md ("Diagnostics channels")
 * documents every channel and its message: keep it in step.
 */
import { channel } from 'node:diagnostics_channel';

export const CHANNELS = {
  /** A retry was scheduled: { service, route, attempt, reason, delayMs } (reason: retryReasonOf, classifier.ts). */
  retry: 'proxyless:retry',
  /** A failure that could have been retried was not: { service, route, reason, why }. */
  retrySkipped: 'proxyless:retry-skipped',
  /** A backup (hedged) request was sent: { service, route, attempt, delayMs }. */
  hedge: 'proxyless:hedge',
  /** An endpoint was ejected: { service, endpoint, reason, untilMs }. */
  ejection: 'proxyless:ejection',
  /** An ejected endpoint came back: { service, endpoint }. */
  ejectionReturn: 'proxyless:ejection-return',
  /** The service breaker changed state: { service, from, to }. */
  circuit: 'proxyless:circuit',
  /** A call was refused locally: { service, code } (overflow, rate limit, open circuit, deadline). */
  rejected: 'proxyless:rejected',
  /** An inbound request was refused by authentication or authorization, a gRPC method's @Authorize included: { code, policy } (reportDenial). */
  denied: 'proxyless:denied',
  /** A request started: { reporter: 'source' | 'destination', service, method, path }. */
  requestStart: 'proxyless:request-start',
  /** A request ended: the RequestRecord (docs/metrics.md lists its fields). */
  requestEnd: 'proxyless:request-end',
  /** A config update was applied or refused: { source, version, accepted, error? }. */
  configUpdate: 'proxyless:config-update',
} as const;

export type ChannelName = keyof typeof CHANNELS;

// A property read per publish, not a Map lookup: publish runs on every call.
// Filled on first use, so importing this module creates no channel.
const channels: { [K in ChannelName]?: ReturnType<typeof channel> } = {};

function get(name: ChannelName): ReturnType<typeof channel> {
  let ch = channels[name];
  if (ch === undefined) {
    ch = channel(CHANNELS[name]);
    channels[name] = ch;
  }
  return ch;
}

/** Publish when someone listens; `make` builds the message only then. */
export function publish(name: ChannelName, make: () => object): void {
  const ch = get(name);
  if (ch.hasSubscribers) ch.publish(make());
}

/** True when someone listens: lets a caller skip building what only listeners would read. */
export function hasSubscribers(name: ChannelName): boolean {
  return get(name).hasSubscribers;
}
