/**
 * The verified-token cache seen from the authenticator, against a real
 * JWKS server on port 0: a repeat token is not checked again (so it still
 * passes after its key leaves the JWKS, for at most maxAge), it is never
 * trusted past its exp, a token found in another place is checked afresh,
 * and maxTokens 0 checks every token. Wall-clock time (exp, maxAge) and
 * the JWKS refresh rate limit are virtual.
 */
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { compileRequestAuthentication, type RequestAuthenticator } from '../../../../src/security/jwt/authenticator.js';
import { JwksCache } from '../../../../src/security/jwt/jwks-cache.js';
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

beforeAll(async () => {
  [k1, k2] = await Promise.all([makeKey('RS256', 'k1'), makeKey('ES256', 'k2')]);
});

beforeEach(async () => {
  vi.useFakeTimers({ toFake: ['Date', 'setInterval', 'clearInterval', 'performance'] });
  vi.setSystemTime(new Date('2026-11-30T12:00:00Z'));
  server = await startJwksServer(jwksText(k1));
});

afterEach(async () => {
  await cache?.close();
  await server.close();
  vi.useRealTimers();
});

function setup(verifiedTokens: { maxTokens?: number; maxAgeMs?: number } = {}, rule: Record<string, unknown> = {}): RequestAuthenticator {
  cache = new JwksCache({ logger: memoryLogger() });
  const policies = validateRequestAuthentications([{ jwtRules: [{ issuer: ISSUER, jwksUri: server.url, ...rule }] }]);
  return compileRequestAuthentication(policies, { namespace: 'default', jwks: cache, verifiedTokens });
}

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

describe('the verified-token cache', () => {
  it('trusts a repeat token for maxAge without a new check, while a new token from a withdrawn key is refused', async () => {
    const a = setup({ maxAgeMs: 60_000 });
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
    const a = setup();
    const token = await sign(k1, { expIn: 90 });
    expect(await outcome(a.authenticate(bearer(token)))).toBe(`${ISSUER}/alice`);
    vi.advanceTimersByTime(149_000);
    expect(await outcome(a.authenticate(bearer(token)))).toBe(`${ISSUER}/alice`);
    vi.advanceTimersByTime(1_000);
    expect(await outcome(a.authenticate(bearer(token)))).toBe('expired');
  });

  it('checks afresh a token found in another place, where other rules may apply', async () => {
    const a = setup({}, { fromHeaders: [{ name: 'x-token' }], fromParams: ['token'] });
    const token = await sign(k1);
    expect(await outcome(a.authenticate(req({ headers: { 'x-token': token } })))).toBe(`${ISSUER}/alice`);
    await withdrawK1(a, (t) => req({ headers: { 'x-token': t } }));
    expect(await outcome(a.authenticate(req({ headers: { 'x-token': token } })))).toBe(`${ISSUER}/alice`);
    expect(await outcome(a.authenticate(req({ query: { token } })))).toBe('unknown_key');
  });

  it('with maxTokens 0 checks every token', async () => {
    const a = setup({ maxTokens: 0 });
    const token = await sign(k1);
    expect(await outcome(a.authenticate(bearer(token)))).toBe(`${ISSUER}/alice`);
    await withdrawK1(a);
    expect(await outcome(a.authenticate(bearer(token)))).toBe('unknown_key');
  });

  it('never remembers a failure: a token refused for an unknown key passes once the key arrives', async () => {
    const a = setup();
    const early = await sign(k2);
    expect(await outcome(a.authenticate(bearer(early)))).toBe('unknown_key');
    server.body = jwksText(k1, k2);
    vi.advanceTimersByTime(30_000);
    expect(await outcome(a.authenticate(bearer(early)))).toBe(`${ISSUER}/alice`);
  });
});
