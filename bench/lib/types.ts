/**
 * Messages between the bench orchestrator (bench/run.ts) and its child
 * processes: the load generators (bench/lib/loadgen.ts) and the upstream
 * replicas (bench/lib/upstream.ts). Plain JSON over the IPC channel.
 */

/** What the load generator sends requests with. */
export type ClientSpec =
  /** `undici.request(url, { dispatcher })`, one undici `Pool` per URL, round-robin by hand. */
  | { kind: 'undici'; urls: string[] }
  /** Node's global `fetch`, round-robin over the URLs by hand. */
  | { kind: 'fetch'; urls: string[] }
  /**
   * `mesh.request(url)` / `mesh.fetch(url)` on a mesh whose service `service`
   * has these endpoints (and this load-balancer policy, if given).
   */
  | { kind: 'mesh-request' | 'mesh-fetch'; service: string; endpoints: string[]; path: string; lbPolicy?: string }
  /**
   * `mesh.request(url)` with telemetry off (no metrics, no tracing), and
   * fully on: metrics, and tracing into a real SDK tracer provider (always
   * sampled, batched to an exporter that drops the spans) with propagation.
   */
  | { kind: 'mesh-quiet' | 'mesh-otel'; service: string; endpoints: string[]; path: string; lbPolicy?: string }
  /**
   * `mesh.request(url)` with the whole stack on: 20 routes ahead of the one
   * that matches, retries with a budget and a per-try timeout, an overall
   * timeout (so a deadline and its header), a circuit breaker, pool limits
   * and outlier detection.
   */
  | { kind: 'mesh-full'; service: string; endpoints: string[]; path: string; lbPolicy?: string };

/**
 * Closed loop on one row: a warm-up, then `concurrency` requests in flight at
 * all times, each sent as soon as one completes, for `durationMs`.
 */
export interface ClosedRun {
  kind: 'closed';
  row: string;
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  /** Hard cap on requests in the measured phase (loops are bounded in count as well as time). */
  maxRequests: number;
}

/**
 * Open loop at a fixed rate, one slice of `sliceMs` per row in the given
 * order: request i of a slice is sent at start + i/rate, whatever is still in
 * flight. With `warmupMs` > 0, each row first runs a closed-loop warm-up at
 * `warmupConcurrency`.
 */
export interface SlicedRun {
  kind: 'sliced';
  rows: string[];
  rate: number;
  sliceMs: number;
  warmupMs: number;
  warmupConcurrency: number;
}

/** Latency percentiles in microseconds. */
export interface Latency {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

export interface LoadResult {
  ok: true;
  node: string;
  /** Requests answered 200 with the body read in full, in the measured phase. */
  completed: number;
  /** Non-200 answers and thrown errors in the measured phase. */
  errors: number;
  firstError?: string;
  elapsedMs: number;
  rps: number;
  cpuUserUs: number;
  cpuSystemUs: number;
  /** (user + system CPU of the load-generator process) / completed. */
  cpuPerRequestUs: number;
  latencyUs: Latency;
  /** Fixed rate only: every latency sample (µs), so rounds can be pooled exactly. */
  samplesUs?: number[];
  /** Fixed rate only: the worst lateness of a send against its schedule (ms). */
  maxSendLagMs?: number;
}

export interface LoadFailure {
  ok: false;
  reason: string;
}

export type LoadReply = LoadResult | LoadFailure;

/** A load generator's clients: row id -> client (its only argument, as JSON). */
export type LoadgenClients = Record<string, ClientSpec>;
/** Orchestrator -> load generator. */
export type LoadgenRequest = { type: 'run'; run: ClosedRun | SlicedRun } | { type: 'close' };
/**
 * Load generator -> orchestrator: `ready` once (naming the rows whose client
 * could not be built, and why), then one `result` per `run`, keyed by row.
 */
export type LoadgenMessage =
  | { type: 'ready'; node: string; unavailable: Record<string, string> }
  | { type: 'result'; replies: Record<string, LoadReply> };

/** Orchestrator -> upstream. */
export type UpstreamRequest = { type: 'count' };
/** Upstream -> orchestrator. */
export type UpstreamMessage =
  | { type: 'ready'; port: number; node: string }
  | { type: 'count'; requests: number };
