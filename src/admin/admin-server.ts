/**
 * The per-process admin endpoint, on plain node:http. It is the mesh's own
 * traffic, so it never goes through the mesh's inbound pipeline (no authz,
 * no Istio metrics of its own scrapes) and runs with tracing suppressed.
 *
 * It only renders an AdminSource. A source method that throws costs one 500
 * with a short message; the server keeps serving.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type MeshLogger, stderrLogger } from '../telemetry/logger.js';
import { withoutTracing } from '../telemetry/tracing/suppress.js';
import type { AdminSource } from './admin-source.js';
import { clustersText } from './clusters-text.js';
import { type DashboardData, dashboardData } from './dashboard-data.js';
import { dashboardPage } from './dashboard-page.js';
import { hostAllowed } from './host-guard.js';
import { metricsReply } from './metrics-response.js';
import { clusterJson } from './views.js';

export interface AdminServerOptions {
  /** 0 picks a free port (read it back from `port`). */
  port: number;
  /** Default 127.0.0.1. Anything else exposes the endpoint: your choice, made here. */
  host?: string;
  source: AdminSource;
  /** Where handler failures are reported (default: the mesh's stderr logger). */
  logger?: MeshLogger;
}

export interface AdminServer {
  readonly port: number;
  readonly host: string;
  /** Stops accepting, closes idle keep-alive connections, and resolves once in-flight requests end. */
  close(): Promise<void>;
}

interface Reply {
  status: number;
  type: string;
  body: string | Buffer;
  headers?: Record<string, string>;
}

type Route = (req: IncomingMessage, query: URLSearchParams) => Reply | Promise<Reply>;

const TEXT = 'text/plain; charset=utf-8';
const JSON_TYPE = 'application/json; charset=utf-8';
const MAX_ERROR_CHARS = 200;

export async function startAdminServer(opts: AdminServerOptions): Promise<AdminServer> {
  const host = opts.host ?? '127.0.0.1';
  const { source } = opts;
  const logger = opts.logger ?? stderrLogger();
  const routes = buildRoutes(source, coalesce(() => dashboardData(source)));

  const server = createServer((req, res) => {
    withoutTracing(() => {
      handle(req, res).catch((err: unknown) => {
        // Only writing the reply can fail here (a client gone mid-response).
        logger.warn('admin: reply failed', { error: messageOf(err) });
        res.destroy();
      });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const route = routes.get(path);
    let reply: Reply;
    if (!hostAllowed(host, req.headers.host)) {
      reply = { status: 403, type: TEXT, body: 'forbidden: this admin endpoint answers to loopback names only\n' };
    } else if (route === undefined) {
      reply = { status: 404, type: TEXT, body: `not found: ${path.slice(0, 100)}\n` };
    } else if (req.method !== 'GET' && req.method !== 'HEAD') {
      reply = { status: 405, type: TEXT, body: 'method not allowed\n', headers: { allow: 'GET, HEAD' } };
    } else {
      try {
        reply = await route(req, new URLSearchParams(q < 0 ? '' : url.slice(q + 1)));
      } catch (err) {
        const message = messageOf(err);
        logger.warn('admin: handler failed', { path, error: message });
        reply = { status: 500, type: TEXT, body: `internal error: ${message}\n` };
      }
    }
    send(res, reply);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // After listen, a server error (an accept failing under EMFILE) is reported, never thrown.
  server.on('error', (err) => logger.warn('admin: server error', { error: messageOf(err) }));
  // Observability must not keep a process alive that would otherwise exit.
  server.unref();
  const port = (server.address() as AddressInfo).port;

  return {
    port,
    host,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err === undefined ? resolve() : reject(err)));
        server.closeIdleConnections();
      }),
  };
}

function buildRoutes(source: AdminSource, data: () => Promise<DashboardData>): Map<string, Route> {
  const json = (value: unknown, indent?: number): Reply => ({ status: 200, type: JSON_TYPE, body: `${JSON.stringify(value, null, indent)}\n` });
  return new Map<string, Route>([
    [
      '/metrics',
      async (req) => {
        const r = await metricsReply(source.registry, req.headers.accept, req.headers['accept-encoding']);
        const headers: Record<string, string> = { vary: 'Accept, Accept-Encoding' };
        if (r.contentEncoding !== undefined) headers['content-encoding'] = r.contentEncoding;
        return { status: 200, type: r.contentType, body: r.body, headers };
      },
    ],
    ['/healthz', () => ({ status: 200, type: TEXT, body: 'ok\n' })],
    ['/readyz', () => (source.ready() ? { status: 200, type: TEXT, body: 'ready\n' } : { status: 503, type: TEXT, body: 'not ready\n' })],
    ['/config_dump', () => json(source.configDump() ?? null, 2)],
    [
      '/clusters',
      (_req, query) => {
        const clusters = source.clusters();
        if (query.get('format') === 'text') return { status: 200, type: TEXT, body: clustersText(clusters, Date.now()) };
        return json({ clusters: clusters.map((c) => clusterJson(c)) }, 2);
      },
    ],
    ['/dashboard/data', async () => json(await data())],
    [
      '/',
      () => {
        const page = dashboardPage();
        return { status: 200, type: 'text/html; charset=utf-8', body: page.html, headers: { 'content-security-policy': page.csp } };
      },
    ],
  ]);
}

function send(res: ServerResponse, reply: Reply): void {
  const body = typeof reply.body === 'string' ? Buffer.from(reply.body, 'utf8') : reply.body;
  res.writeHead(reply.status, {
    'content-type': reply.type,
    'content-length': body.length,
    // Every answer is a live reading; a cached one would mislead.
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...reply.headers,
  });
  res.end(body);
}

/** Concurrent callers (several open dashboards) share one computation. */
function coalesce<T>(fn: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= fn().finally(() => {
      pending = undefined;
    });
    return pending;
  };
}

function messageOf(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const line = text.split('\n', 1)[0] ?? '';
  return line.length > MAX_ERROR_CHARS ? `${line.slice(0, MAX_ERROR_CHARS)}…` : line;
}
