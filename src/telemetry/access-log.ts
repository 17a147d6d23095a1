/**
 * The access log: one JSON line per request, built from the same
 * RequestRecord as the metrics, with Envoy's field names so tools that read
 * Envoy/Istio JSON access logs read these too.
 *
 * Off by default: the mesh creates an AccessLog only when asked to. The path
 * is logged as the caller sent it (query included); header values never are,
 * the record does not even carry them. Sampling uses Math.random (or the
 * `random` you pass), never a secure random source, so a dropped line
 * costs one draw and one comparison.
 */
import type { RequestRecord } from './request-record.js';

export interface AccessLogOptions {
  /** Receives each line without its newline. Default: writes the line and '\n' to process.stdout. */
  sink?: (line: string) => void;
  /** Fraction of requests logged, 0..1 (default 1). Applied after `onlyErrors`. */
  sampleRate?: number;
  /** Log only failed requests (see isErrorRecord). Default false. */
  onlyErrors?: boolean;
  /** Uniform [0, 1) source for sampling; default Math.random. Tests pass a seeded one. */
  random?: () => number;
}

/** Field names, in the order every line carries them. */
export const ACCESS_LOG_FIELDS = [
  'start_time',
  'method',
  'authority',
  'path',
  'protocol',
  'response_code',
  'grpc_status',
  'response_flags',
  'duration',
  'bytes_received',
  'bytes_sent',
  'upstream_host',
  'route_name',
  'attempts',
  'trace_id',
  'downstream_peer_uri_san',
  'upstream_peer_uri_san',
  'reporter',
  'destination_service',
] as const;

export type AccessLogField = (typeof ACCESS_LOG_FIELDS)[number];

/**
 * A failed request, as `onlyErrors` sees it: no response, HTTP 4xx/5xx, a
 * non-OK gRPC status, or any Envoy response flag (UH, UO, URX, RL, …).
 */
export function isErrorRecord(r: RequestRecord): boolean {
  return (
    r.responseCode === 0 ||
    r.responseCode >= 400 ||
    (r.grpcStatus !== undefined && r.grpcStatus !== 0) ||
    (r.responseFlags !== '-' && r.responseFlags !== '')
  );
}

/** One line of JSON for a record, keys in ACCESS_LOG_FIELDS order, null where a value is unknown. */
export function formatAccessLogLine(r: RequestRecord): string {
  const inbound = r.reporter === 'destination';
  const peer = r.peerPrincipal ?? null;
  // One object literal in a fixed key order and one stringify: JSON escaping
  // handles quotes, control characters and lone surrogates in the path.
  const line = JSON.stringify({
    start_time: isoTime(r.startTime),
    method: r.method,
    authority: r.authority,
    path: r.path,
    protocol: r.protocol,
    response_code: r.responseCode,
    grpc_status: r.grpcStatus ?? null,
    response_flags: r.responseFlags || '-',
    duration: roundMs(r.durationMs),
    bytes_received: r.requestBytes,
    bytes_sent: r.responseBytes,
    upstream_host: r.upstreamHost ?? null,
    route_name: r.route ?? null,
    attempts: r.attempts,
    trace_id: r.traceId ?? null,
    // The peer the mesh verified: the caller on the inbound side, the
    // server's expected identity on the outbound side.
    downstream_peer_uri_san: inbound ? peer : null,
    upstream_peer_uri_san: inbound ? null : peer,
    reporter: r.reporter,
    destination_service: r.destination.service,
  } satisfies Record<AccessLogField, unknown>);
  // JSON leaves Unicode line separators raw; readers that split on them
  // (Python's splitlines, some log shippers) would see two lines.
  return LINE_SEPARATORS.test(line) ? line.replace(LINE_SEPARATORS_ALL, escapeSeparator) : line;
}

const LINE_SEPARATORS = /[\u0085\u2028\u2029]/;
const LINE_SEPARATORS_ALL = /[\u0085\u2028\u2029]/g;

function escapeSeparator(c: string): string {
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

export class AccessLog {
  readonly #sink: (line: string) => void;
  readonly #rate: number;
  readonly #onlyErrors: boolean;
  readonly #random: () => number;

  constructor(opts: AccessLogOptions = {}) {
    this.#sink = opts.sink ?? stdoutSink;
    const rate = opts.sampleRate ?? 1;
    this.#rate = Number.isFinite(rate) ? Math.min(1, Math.max(0, rate)) : 1;
    this.#onlyErrors = opts.onlyErrors ?? false;
    this.#random = opts.random ?? Math.random;
  }

  /** Logs the record if it passes the error filter and the sample; returns whether it did. */
  log(r: RequestRecord): boolean {
    if (this.#onlyErrors && !isErrorRecord(r)) return false;
    if (this.#rate < 1 && !(this.#random() < this.#rate)) return false;
    this.#sink(formatAccessLogLine(r));
    return true;
  }
}

function stdoutSink(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** The largest time a Date holds; toISOString() throws beyond it. */
const MAX_DATE_MS = 8.64e15;

function isoTime(epochMs: number): string | null {
  return Math.abs(epochMs) <= MAX_DATE_MS ? new Date(epochMs).toISOString() : null;
}

/** Milliseconds to microsecond precision: enough to read, short to write. */
function roundMs(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
