/**
 * Messages between the bench orchestrator (bench/run.ts) and its child
 * processes: the load generators (bench/lib/loadgen.ts, one per row) and the
 * upstream replicas (bench/lib/upstream.ts). Plain JSON over the IPC channel.
 */

/** What the load generator sends requests with. */
export type ClientSpec =
  /** `undici.request(url, { dispatcher })`, one undici `Pool` per URL, round-robin by hand. */
  | { kind: 'undici'; urls: string[] }
  /** Node's global `fetch`, round-robin over the URLs by hand. */
  | { kind: 'fetch'; urls: string[] }
  /** `mesh.request(url)` / `mesh.fetch(url)` on a mesh whose service `service` has these endpoints. */
  | { kind: 'mesh-request' | 'mesh-fetch'; service: string; endpoints: string[]; path: string };

export type LoadMode =
  /** `concurrency` requests in flight at all times, as fast as they complete. */
  | { kind: 'closed'; concurrency: number }
  /** Open loop: one request every 1/rate seconds, whatever is still in flight. */
  | { kind: 'fixed'; rate: number; warmupConcurrency: number };

/** One measurement, asked of a running load generator. */
export interface RunSpec {
  mode: LoadMode;
  /** Closed-loop warm-up right before the measured phase (the first run of a process warms for longer). */
  warmupMs: number;
  durationMs: number;
  /** Hard cap on requests in the measured phase (loops are bounded in count as well as time). */
  maxRequests: number;
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

/** Orchestrator -> load generator. */
export type LoadgenRequest = { type: 'run'; run: RunSpec } | { type: 'close' };
/** Load generator -> orchestrator: `ready` or `unavailable` once, then one `result` per `run`. */
export type LoadgenMessage =
  | { type: 'ready'; node: string }
  | { type: 'unavailable'; reason: string }
  | { type: 'result'; reply: LoadReply };

/** Orchestrator -> upstream. */
export type UpstreamRequest = { type: 'count' };
/** Upstream -> orchestrator. */
export type UpstreamMessage =
  | { type: 'ready'; port: number; node: string }
  | { type: 'count'; requests: number };
