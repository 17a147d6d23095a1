/**
 * Key sets fetched over HTTP from a real server on port 0: caching, rotation
 * through an unknown kid, the rate limit on refreshes, periodic refresh,
 * failures that keep the last good keys, and shutdown; and the
 * verified-token cache on top of them (a repeat token is not checked
 * again, for at most maxAge and never past its exp). Time that matters
 * (the 30 s rate limit, the 20 min refresh, exp and maxAge) is virtual.
 */
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { compileRequestAuthentication, type RequestAuthenticator } from '../../../../src/security/jwt/authenticator.js';
import { JwksCache, type JwksCacheOptions } from '../../../../src/security/jwt/jwks-cache.js';
import { validateRequestAuthentications } from '../../../../src/security/jwt/parse.js';
import {
  bearer,
  ISSUER,
  type JwksServer,
  jwksText,
  makeKey,
  memoryLogger,
  req,
  sign,
  startJwksServer,
  type TestKey,
} from './helpers.js';

let k1: TestKey;
let k2: TestKey;
let server: JwksServer;
let cache: JwksCache;
let log: ReturnType<typeof memoryLogger>;

beforeAll(async () => {
  [k1, k2] = await Promise.all([makeKey('RS256', 'k1'), makeKey('ES256', 'k2')]);
});

beforeEach(async () => {
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'performance'] });
  server = await startJwksServer(jwksText(k1));
  log = memoryLogger();
});

afterEach(async () => {
  await cache?.close();
  await server.close();
  vi.useRealTimers();
});

/**
 * An authenticator on the test's JWKS server. The key-set tests check every
 * token (`verifiedTokens` off), so none comes from the verified-token cache.
 */
function setup(
  rule: Record<string, unknown> = {},
  options: JwksCacheOptions = {},
  verifiedTokens: { maxTokens?: number; maxAgeMs?: number } = { maxTokens: 0 },
): RequestAuthenticator {
  cache = new JwksCache({ logger: log, ...options });
  const policies = validateRequestAuthentications([{ jwtRules: [{ issuer: ISSUER, jwksUri: server.url, ...rule }] }]);
  return compileRequestAuthentication(policies, { namespace: 'default', jwks: cache, verifiedTokens });
}

async function reason(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => 'accepted',
    (e: { details?: { reason?: unknown } }) => e.details?.reason,
  );
}

describe('fetch and cache', () => {
  it('fetches nothing until a token needs the keys, then once for many tokens', async () => {
    const a = setup();
    expect(server.hits()).toBe(0);
    const tokens = await Promise.all([sign(k1), sign(k1, { sub: 'bob' })]);
    const results = await Promise.all([...tokens, ...tokens].map((t) => a.authenticate(bearer(t))));
    expect(results.map((r) => r.principal)).toEqual([`${ISSUER}/alice`, `${ISSUER}/bob`, `${ISSUER}/alice`, `${ISSUER}/bob`]);
    expect(server.hits()).toBe(1);
  });

  it('prefetch() loads keys before the first request', async () => {
    const a = setup();
    await cache.prefetch();
    expect(server.hits()).toBe(1);
    expect(cache.stats()).toEqual([{ uri: server.url, kids: ['k1'], fetches: 1, failing: false }]);
    await a.authenticate(bearer(await sign(k1)));
    expect(server.hits()).toBe(1);
  });

  it('shares one key set between authenticators (and config updates) using the same URI', async () => {
    const a = setup();
    const b = compileRequestAuthentication(
      validateRequestAuthentications([{ jwtRules: [{ issuer: ISSUER, jwksUri: server.url }] }]),
      { namespace: 'default', jwks: cache },
    );
    await a.authenticate(bearer(await sign(k1)));
    await b.authenticate(bearer(await sign(k1)));
    expect(server.hits()).toBe(1);
    // One refresh timer for the URI, however many holders and requests.
    expect(vi.getTimerCount()).toBe(1);
    a.close();
    expect(cache.stats()).toHaveLength(1);
    b.close();
    expect(cache.stats()).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('finds the JWKS URI by OpenID discovery when the rule gives none', async () => {
    server.routes.set('/.well-known/openid-configuration', JSON.stringify({ issuer: server.origin, jwks_uri: server.url }));
    cache = new JwksCache({ logger: log });
    const policies = validateRequestAuthentications([{ jwtRules: [{ issuer: server.origin }] }]);
    const a = compileRequestAuthentication(policies, { namespace: 'default', jwks: cache });
    const result = await a.authenticate(bearer(await sign(k1, { iss: server.origin })));
    expect(result.principal).toBe(`${server.origin}/alice`);
    expect(server.hits('/.well-known/openid-configuration')).toBe(1);
    expect(server.hits()).toBe(1);
  });
});

describe('rotation and the unknown-kid rate limit', () => {
  it('refreshes once on a new kid and accepts the rotated key', async () => {
    const a = setup();
    await a.authenticate(bearer(await sign(k1)));
    server.body = jwksText(k1, k2);
    vi.advanceTimersByTime(30_000);
    const rotated = await sign(k2);
    const results = await Promise.all([1, 2, 3].map(() => a.authenticate(bearer(rotated))));
    expect(results.every((r) => r.principal === `${ISSUER}/alice`)).toBe(true);
    expect(server.hits()).toBe(2);
  });

  it('within 30 s of the last fetch, an unknown kid is rejected without a fetch', async () => {
    const a = setup();
    await a.authenticate(bearer(await sign(k1)));
    server.body = jwksText(k1, k2);
    vi.advanceTimersByTime(29_000);
    expect(await reason(a.authenticate(bearer(await sign(k2))))).toBe('unknown_key');
    expect(server.hits()).toBe(1);
    vi.advanceTimersByTime(1_000);
    expect(await reason(a.authenticate(bearer(await sign(k2))))).toBe('accepted');
    expect(server.hits()).toBe(2);
  });

  it('a flood of made-up kids costs at most one fetch per 30 s', async () => {
    const a = setup();
    await a.authenticate(bearer(await sign(k1)));
    const flood = async (n: number) => {
      const tokens = await Promise.all(Array.from({ length: n }, (_, i) => sign(k1, { kid: `fake-${i}` })));
      return Promise.all(tokens.map((t) => reason(a.authenticate(bearer(t)))));
    };
    expect(new Set(await flood(50))).toEqual(new Set(['unknown_key']));
    expect(server.hits()).toBe(1);
    for (let round = 1; round <= 3; round++) {
      vi.advanceTimersByTime(30_000);
      expect(new Set(await flood(50))).toEqual(new Set(['unknown_key']));
      // The 50 concurrent misses shared one refresh.
      expect(server.hits()).toBe(1 + round);
      vi.advanceTimersByTime(10_000);
      await flood(20);
      expect(server.hits()).toBe(1 + round);
    }
    // Known keys kept working throughout.
    expect(await reason(a.authenticate(bearer(await sign(k1))))).toBe('accepted');
  });
});

describe('periodic refresh', () => {
  it('refreshes every 20 minutes on one timer, picking up new keys without any miss', async () => {
    const a = setup();
    await a.authenticate(bearer(await sign(k1)));
    server.body = jwksText(k2);
    vi.advanceTimersByTime(20 * 60_000);
    await cache.settled();
    expect(server.hits()).toBe(2);
    expect(await reason(a.authenticate(bearer(await sign(k2))))).toBe('accepted');
    // The old key is gone with the new document.
    expect(await reason(a.authenticate(bearer(await sign(k1))))).toBe('unknown_key');
    vi.advanceTimersByTime(20 * 60_000);
    await cache.settled();
    expect(server.hits()).toBe(3);
  });

  it('stops the timer when the cache closes, and when the last authenticator holding the URI closes', async () => {
    const a = setup();
    await a.authenticate(bearer(await sign(k1)));
    a.close();
    expect(cache.stats()).toEqual([]);
    vi.advanceTimersByTime(60 * 60_000);
    await cache.settled();
    expect(server.hits()).toBe(1);
    expect(vi.getTimerCount()).toBe(0);

    const b = setup();
    await b.authenticate(bearer(await sign(k1)));
    expect(vi.getTimerCount()).toBe(1);
    await cache.close();
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('failures keep the last good keys', () => {
  it('keeps verifying with the last good set while the server is down, and logs once', async () => {
    const a = setup();
    const token = await sign(k1);
    await a.authenticate(bearer(token));
    server.down = true;
    for (let i = 0; i < 3; i++) {
      vi.advanceTimersByTime(20 * 60_000);
      await cache.settled();
    }
    expect(await reason(a.authenticate(bearer(token)))).toBe('accepted');
    expect(log.lines).toEqual([
      {
        level: 'warn',
        message: 'JWKS fetch failed; keeping the last good key set',
        fields: { jwksUri: server.url, reason: expect.any(String) },
      },
    ]);
    server.down = false;
    vi.advanceTimersByTime(20 * 60_000);
    await cache.settled();
    expect(log.lines.at(-1)).toEqual({ level: 'info', message: 'JWKS fetch recovered', fields: { jwksUri: server.url } });
    expect(JSON.stringify(log.lines)).not.toContain(token.split('.')[1]);
  });

  it('keeps the last good set when the server starts answering garbage or errors', async () => {
    const a = setup();
    await a.authenticate(bearer(await sign(k1)));
    server.body = '{"not":"a key set"}';
    vi.advanceTimersByTime(20 * 60_000);
    await cache.settled();
    server.status = 503;
    vi.advanceTimersByTime(20 * 60_000);
    await cache.settled();
    expect(await reason(a.authenticate(bearer(await sign(k1))))).toBe('accepted');
    expect(cache.stats()[0]?.failing).toBe(true);
  });

  it('with no key set ever fetched, rejects tokens as jwks_unavailable and retries at most every 30 s', async () => {
    server.down = true;
    const a = setup();
    const token = await sign(k1);
    expect(await reason(a.authenticate(bearer(token)))).toBe('jwks_unavailable');
    expect(await reason(a.authenticate(bearer(token)))).toBe('jwks_unavailable');
    expect(server.hits()).toBe(1);
    expect(log.lines.map((l) => l.message)).toEqual([
      'JWKS fetch failed; tokens needing these keys are rejected until a fetch succeeds',
    ]);
    server.down = false;
    vi.advanceTimersByTime(30_000);
    expect(await reason(a.authenticate(bearer(token)))).toBe('accepted');
    expect(server.hits()).toBe(2);
  });

  it('refuses a document over the size limit', async () => {
    server.body = JSON.stringify({ keys: [k1.jwk], padding: 'x'.repeat(5000) });
    const a = setup({}, { maxBytes: 4096 });
    expect(await reason(a.authenticate(bearer(await sign(k1))))).toBe('jwks_unavailable');
    expect(log.lines[0]?.fields?.reason).toBe(`response of ${Buffer.byteLength(server.body)} bytes exceeds the 4096-byte limit`);
  });

  it('refuses a chunked document once it grows over the size limit', async () => {
    server.body = JSON.stringify({ keys: [k1.jwk], padding: 'x'.repeat(5000) });
    server.chunked = true;
    const a = setup({}, { maxBytes: 4096 });
    expect(await reason(a.authenticate(bearer(await sign(k1))))).toBe('jwks_unavailable');
    expect(log.lines[0]?.fields?.reason).toBe('response exceeds the 4096-byte limit');
  });

  it('gives up on a server that does not answer within the rule timeout', async () => {
    server.hang = true;
    const a = setup({ timeout: '100ms' });
    expect(await reason(a.authenticate(bearer(await sign(k1))))).toBe('jwks_unavailable');
    expect(log.lines[0]?.fields?.reason).toBe('timed out after 100ms');
  });
});

async function outcome(promise: Promise<{ principal?: string }>): Promise<unknown> {
  return promise.then(
    (r) => r.principal,
    (e: { details?: { reason?: unknown } }) => e.details?.reason,
  );
}

/** Replace the JWKS with k2 alone, and make the authenticator fetch it (a k2 token after the 30 s refresh limit). */
async function withdrawK1(a: RequestAuthenticator, present: (token: string) => ReturnType<typeof req> = bearer): Promise<void> {
  server.body = jwksText(k2);
  vi.advanceTimersByTime(30_000);
  expect(await outcome(a.authenticate(present(await sign(k2, { sub: 'rotated' }))))).toBe(`${ISSUER}/rotated`);
}

// A repeat token is not checked again (so it outlives its withdrawn key), for at most maxAge and never past its exp.
describe('the verified-token cache', () => {
  beforeEach(() => {
    // exp and maxAge are wall-clock time: Date is virtual here too.
    vi.useFakeTimers({ toFake: ['Date', 'setInterval', 'clearInterval', 'performance'] });
    vi.setSystemTime(new Date('2026-11-30T12:00:00Z'));
  });

  it('trusts a repeat token for maxAge without a new check, while a new token from a withdrawn key is refused', async () => {
    const a = setup({}, {}, { maxAgeMs: 60_000 });
    const token = await sign(k1);
    expect(await outcome(a.authenticate(bearer(token)))).toBe(`${ISSUER}/alice`);
    await withdrawK1(a);
    // Not checked again: k1 is gone from the key set, and the token still passes.
    expect(await outcome(a.authenticate(bearer(token)))).toBe(`${ISSUER}/alice`);
    expect(await outcome(a.authenticate(bearer(await sign(k1, { sub: 'mallory' }))))).toBe('unknown_key');
    // 60 s after it verified, the token is checked again, and fails.
    vi.advanceTimersByTime(30_001);
    expect(await outcome(a.authenticate(bearer(token)))).toBe('unknown_key');
  });

  it('never trusts a token past its exp and the 60 s skew', async () => {
    const a = setup({}, {}, {});
    const token = await sign(k1, { expIn: 90 });
    expect(await outcome(a.authenticate(bearer(token)))).toBe(`${ISSUER}/alice`);
    vi.advanceTimersByTime(149_000);
    expect(await outcome(a.authenticate(bearer(token)))).toBe(`${ISSUER}/alice`);
    vi.advanceTimersByTime(1_000);
    expect(await outcome(a.authenticate(bearer(token)))).toBe('expired');
  });

  it('checks afresh a token found in another place, where other rules may apply', async () => {
    const a = setup({ fromHeaders: [{ name: 'x-token' }], fromParams: ['token'] }, {}, {});
    const token = await sign(k1);
    expect(await outcome(a.authenticate(req({ headers: { 'x-token': token } })))).toBe(`${ISSUER}/alice`);
    await withdrawK1(a, (t) => req({ headers: { 'x-token': t } }));
    expect(await outcome(a.authenticate(req({ headers: { 'x-token': token } })))).toBe(`${ISSUER}/alice`);
    expect(await outcome(a.authenticate(req({ query: { token } })))).toBe('unknown_key');
  });

  it('with maxTokens 0 checks every token', async () => {
    const a = setup({}, {}, { maxTokens: 0 });
    const token = await sign(k1);
    expect(await outcome(a.authenticate(bearer(token)))).toBe(`${ISSUER}/alice`);
    await withdrawK1(a);
    expect(await outcome(a.authenticate(bearer(token)))).toBe('unknown_key');
  });

  it('never remembers a failure: a token refused for an unknown key passes once the key arrives', async () => {
    const a = setup({}, {}, {});
    const early = await sign(k2);
    expect(await outcome(a.authenticate(bearer(early)))).toBe('unknown_key');
    server.body = jwksText(k1, k2);
    vi.advanceTimersByTime(30_000);
    expect(await outcome(a.authenticate(bearer(early)))).toBe(`${ISSUER}/alice`);
  });
});
