/**
 * One HTTP GET for a JWKS (or an OpenID discovery document) on the cache's
 * own undici dispatcher: never the mesh's, so key fetches are not routed,
 * retried or counted as application traffic. Bounded in time and size, and
 * failures come back as short reasons safe to log (no body, no headers).
 */
import { type Dispatcher, request } from 'undici';

export interface FetchLimits {
  readonly dispatcher: Dispatcher;
  readonly timeoutMs: number;
  readonly maxBytes: number;
}

export class JwksFetchError extends Error {
  override readonly name = 'JwksFetchError';
}

export async function fetchJsonDocument(url: string, limits: FetchLimits): Promise<unknown> {
  let res: Dispatcher.ResponseData;
  try {
    res = await request(url, {
      method: 'GET',
      dispatcher: limits.dispatcher,
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(limits.timeoutMs),
    });
  } catch (err) {
    throw new JwksFetchError(failureReason(err, limits.timeoutMs));
  }
  try {
    if (res.statusCode !== 200) throw new JwksFetchError(`HTTP status ${res.statusCode}`);
    const declared = Number(res.headers['content-length']);
    if (declared > limits.maxBytes) throw new JwksFetchError(`response of ${declared} bytes exceeds the ${limits.maxBytes}-byte limit`);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body) {
      size += (chunk as Buffer).length;
      if (size > limits.maxBytes) throw new JwksFetchError(`response exceeds the ${limits.maxBytes}-byte limit`);
      chunks.push(chunk as Buffer);
    }
    try {
      return JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      throw new JwksFetchError('response is not JSON');
    }
  } catch (err) {
    throw err instanceof JwksFetchError ? err : new JwksFetchError(failureReason(err, limits.timeoutMs));
  } finally {
    // Drop whatever is left unread so the connection is not held; the abort
    // error that destroying an unread body emits is expected.
    if (!res.body.destroyed) {
      res.body.on('error', ignore);
      res.body.destroy();
    }
  }
}

function ignore(): void {}

function failureReason(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; code?: string };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `timed out after ${timeoutMs}ms`;
  return e?.code ?? e?.name ?? 'request failed';
}

/** The URL as safe to log: no credentials, no query string. */
export function loggableUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}
