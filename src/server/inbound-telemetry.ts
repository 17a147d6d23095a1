/**
 * Inbound telemetry and deadlines around a handler: the SERVER span (the
 * caller's W3C or B3 trace continued), the caller's remaining budget as the
 * deadline every outbound call of the handler inherits, and at the end one
 * RequestRecord (reporter="destination") for the metrics and access log.
 * Denied requests pass through here too, so they are counted.
 */

import { budgetFromHeaders, deadlineFromBudget, runWithDeadline } from '../resilience/deadline-context.js';
import type { AccessLog } from '../telemetry/access-log.js';
import { hasSubscribers, publish } from '../telemetry/events.js';
import type { TelemetryMetrics } from '../telemetry/metrics/telemetry-metrics.js';
import type { DestinationLabels, RequestRecord } from '../telemetry/request-record.js';
import type { MeshTracer } from '../telemetry/tracing/mesh-tracer.js';
import type { PeerLabelCache } from '../telemetry/workload-labels.js';
import type { InboundHandler, InboundRequest, InboundResponse } from './mesh-server.js';
import { peerOf } from './peer.js';

export interface InboundTelemetry {
  readonly tracer: MeshTracer | undefined;
  readonly metrics: TelemetryMetrics | undefined;
  readonly accessLog: AccessLog | undefined;
  /** This workload, as the destination of its inbound requests. */
  readonly self: () => DestinationLabels;
  readonly peers: PeerLabelCache;
}

export function observed(handler: InboundHandler, t: InboundTelemetry): InboundHandler {
  return (req, res) => {
    const startedAt = performance.now();
    const trace = t.tracer?.startServer(req.headers, {
      method: req.method ?? 'GET',
      scheme: 'http',
      authority: hostOf(req),
      path: req.url ?? '/',
      protocol: 'http',
      peerAddress: req.socket.remoteAddress,
    });
    publish('requestStart', () => ({ reporter: 'destination', service: t.self().serviceName, method: req.method, path: req.url }));
    const recording = t.metrics !== undefined || t.accessLog !== undefined || hasSubscribers('requestEnd');
    const counted = recording ? countResponseBytes(res) : undefined;
    if (trace !== undefined || recording) {
      res.once('close', () => {
        const status = res.headersSent ? res.statusCode : 0;
        trace?.end({ status });
        if (!recording) return;
        const peer = peerOf(req);
        const durationMs = performance.now() - startedAt;
        const record: RequestRecord = {
          reporter: 'destination',
          source: t.peers.get(peer.principal, peer.namespace),
          destination: t.self(),
          protocol: 'http',
          responseCode: status,
          grpcStatus: undefined,
          // A response that never finished was cut off downstream (Envoy's DC).
          responseFlags: res.writableFinished ? '-' : 'DC',
          connectionSecurityPolicy: peer.authenticated ? 'mutual_tls' : 'none',
          startTime: Date.now() - durationMs,
          durationMs,
          requestBytes: Number(req.headers['content-length'] ?? 0) || 0,
          responseBytes: counted?.() ?? 0,
          method: req.method ?? 'GET',
          authority: hostOf(req),
          path: req.url ?? '/',
          route: undefined,
          upstreamHost: undefined,
          attempts: 1,
          traceId: trace?.traceId,
          peerPrincipal: peer.principal,
        };
        t.metrics?.record(record);
        t.accessLog?.log(record);
        publish('requestEnd', () => record);
      });
    }
    const run = trace === undefined ? () => handler(req, res) : () => trace.runInContext(() => handler(req, res));
    // The caller's remaining time becomes this request's deadline: every call the handler makes inherits it.
    const headers = req.headers;
    const budget = budgetFromHeaders((name) => {
      const v = headers[name];
      return Array.isArray(v) ? v[0] : v;
    });
    if (budget === undefined) run();
    else runWithDeadline(deadlineFromBudget(budget), run);
  };
}

function hostOf(req: InboundRequest): string {
  const h = req.headers.host ?? req.headers[':authority'];
  return (Array.isArray(h) ? h[0] : h) ?? '';
}

/** Counts body bytes written, for Istio's response size (the Content-Length when there is one). */
function countResponseBytes(res: InboundResponse): () => number {
  let bytes = 0;
  const r = res as unknown as { write: (...a: unknown[]) => boolean; end: (...a: unknown[]) => unknown };
  const write = r.write;
  const end = r.end;
  r.write = function (this: unknown, chunk: unknown, ...rest: unknown[]) {
    bytes += sizeOf(chunk);
    return write.call(this, chunk, ...rest);
  };
  r.end = function (this: unknown, chunk: unknown, ...rest: unknown[]) {
    if (typeof chunk !== 'function') bytes += sizeOf(chunk);
    return end.call(this, chunk, ...rest);
  };
  return () => {
    const declared = Number(res.getHeader('content-length'));
    return Number.isFinite(declared) && declared > 0 ? declared : bytes;
  };
}

function sizeOf(chunk: unknown): number {
  if (typeof chunk === 'string') return Buffer.byteLength(chunk);
  if (chunk instanceof Uint8Array) return chunk.byteLength;
  return 0;
}
