/**
 * A lean Kubernetes API client on undici: GET for lists and objects, watch
 * streams read as newline-delimited JSON, and merge patches (the control
 * plane writes the status of the routes it serves). It has its own Pool with the
 * cluster's CA (never the mesh's dispatcher, so API traffic is not routed,
 * retried or counted as application traffic) and every request runs with
 * tracing suppressed.
 */
import { type Dispatcher, Pool } from 'undici';
import { withoutTracing } from '../../telemetry/tracing/suppress.js';
import { KubeApiError } from './api-error.js';
import { BearerToken } from './bearer-token.js';
import type { ClusterConfig } from './cluster-config.js';

/** A list body bigger than this is refused rather than buffered. */
const MAX_BODY_BYTES = 64 * 1024 * 1024;
/** One watch event (one object) bigger than this ends the stream. */
const MAX_EVENT_BYTES = 16 * 1024 * 1024;
const HEADERS_TIMEOUT_MS = 30_000;

export interface WatchEvent {
  readonly type: string;
  readonly object: unknown;
}

export class KubeApiClient {
  readonly config: ClusterConfig;
  readonly #pool: Pool;
  readonly #token: BearerToken;
  readonly #basePath: string;

  constructor(config: ClusterConfig) {
    this.config = config;
    const url = new URL(config.server);
    this.#basePath = url.pathname.replace(/\/+$/, '');
    this.#token = new BearerToken(config.credentials);
    this.#pool = new Pool(url.origin, {
      connect: {
        ...(config.ca !== undefined ? { ca: config.ca } : {}),
        ...(config.clientCert !== undefined ? { cert: config.clientCert } : {}),
        ...(config.clientKey !== undefined ? { key: config.clientKey } : {}),
        ...(config.tlsServerName !== undefined ? { servername: config.tlsServerName } : {}),
        rejectUnauthorized: !config.insecureSkipTlsVerify,
      },
    });
  }

  /** GET a JSON document; throws KubeApiError for a non-2xx answer. */
  async getJson(path: string, signal: AbortSignal): Promise<unknown> {
    const res = await this.#send(path, signal, HEADERS_TIMEOUT_MS);
    const text = await readBody(res.body, MAX_BODY_BYTES);
    if (res.statusCode >= 300) throw KubeApiError.fromStatus(res.statusCode, parseOrUndefined(text));
    try {
      return JSON.parse(text);
    } catch {
      throw new KubeApiError(res.statusCode, 'BadResponse', `the API server answered ${path} with a body that is not JSON`);
    }
  }

  /**
   * PATCH `path` with a JSON merge patch and return the object the server
   * stored; throws KubeApiError for a non-2xx answer (409 when the patch
   * names a resourceVersion that is no longer current).
   */
  async mergePatch(path: string, patch: unknown, signal: AbortSignal): Promise<unknown> {
    const body = JSON.stringify(patch);
    const res = await this.#send(path, signal, HEADERS_TIMEOUT_MS, undefined, body);
    const text = await readBody(res.body, MAX_BODY_BYTES);
    if (res.statusCode >= 300) throw KubeApiError.fromStatus(res.statusCode, parseOrUndefined(text));
    return parseOrUndefined(text);
  }

  /**
   * Open a watch. Resolves once the server answered 200, with the events
   * as they arrive; the iteration ends when the server ends the stream and
   * throws when the connection fails. `idleMs` bounds silence on the stream.
   */
  async watch(path: string, signal: AbortSignal, idleMs: number): Promise<AsyncIterable<WatchEvent>> {
    const res = await this.#send(path, signal, HEADERS_TIMEOUT_MS, idleMs);
    if (res.statusCode >= 300) {
      const text = await readBody(res.body, MAX_BODY_BYTES);
      throw KubeApiError.fromStatus(res.statusCode, parseOrUndefined(text));
    }
    return events(res.body);
  }

  close(): Promise<void> {
    return this.#pool.close();
  }

  destroy(): Promise<void> {
    return this.#pool.destroy();
  }

  /** GET `path`, or PATCH it with `patch` (a merge patch's JSON). */
  async #send(path: string, signal: AbortSignal, headersTimeout: number, bodyTimeout?: number, patch?: string): Promise<Dispatcher.ResponseData> {
    let res = await this.#request(path, signal, headersTimeout, bodyTimeout, patch);
    if (res.statusCode === 401 && this.#token.rotates) {
      // The token may have rotated since it was read: read it again, once.
      await discard(res.body);
      this.#token.invalidate();
      res = await this.#request(path, signal, headersTimeout, bodyTimeout, patch);
    }
    return res;
  }

  async #request(path: string, signal: AbortSignal, headersTimeout: number, bodyTimeout: number | undefined, patch: string | undefined): Promise<Dispatcher.ResponseData> {
    const authorization = await this.#token.header();
    return withoutTracing(() =>
      this.#pool.request({
        path: `${this.#basePath}${path}`,
        method: patch === undefined ? 'GET' : 'PATCH',
        headers: {
          accept: 'application/json',
          ...(patch === undefined ? {} : { 'content-type': 'application/merge-patch+json' }),
          ...(authorization !== undefined ? { authorization } : {}),
        },
        ...(patch === undefined ? {} : { body: patch }),
        signal,
        headersTimeout,
        ...(bodyTimeout !== undefined ? { bodyTimeout } : {}),
      }),
    );
  }
}

async function* events(body: Dispatcher.ResponseData['body']): AsyncGenerator<WatchEvent> {
  let pending = '';
  try {
    for await (const chunk of body) {
      pending += (chunk as Buffer).toString('utf8');
      let nl = pending.indexOf('\n');
      while (nl >= 0) {
        const line = pending.slice(0, nl).trim();
        pending = pending.slice(nl + 1);
        if (line !== '') yield parseEvent(line);
        nl = pending.indexOf('\n');
      }
      if (pending.length > MAX_EVENT_BYTES) throw new KubeApiError(0, 'BadResponse', 'a watch event exceeds 16 MiB');
    }
    if (pending.trim() !== '') yield parseEvent(pending.trim());
  } finally {
    if (!body.destroyed) {
      body.on('error', () => {});
      body.destroy();
    }
  }
}

function parseEvent(line: string): WatchEvent {
  const parsed = parseOrUndefined(line) as { type?: unknown; object?: unknown } | undefined;
  if (parsed === undefined || typeof parsed.type !== 'string') {
    throw new KubeApiError(0, 'BadResponse', 'the API server sent a watch event that is not JSON');
  }
  return { type: parsed.type, object: parsed.object };
}

async function readBody(body: Dispatcher.ResponseData['body'], max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > max) {
      body.on('error', () => {});
      body.destroy();
      throw new KubeApiError(0, 'BadResponse', `an API response exceeds ${max} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function discard(body: Dispatcher.ResponseData['body']): Promise<void> {
  try {
    await body.dump();
  } catch {
    // The body is unwanted; a failure to drain it changes nothing.
  }
}

function parseOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
