/**
 * Where tokens are read from (Istio's defaults, or only the configured
 * headers, parameters and cookies) and the header mutations a verified
 * token produces for the caller to apply.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_TOKEN_RESULT } from '../../../../src/security/jwt/auth-result.js';
import { compileRequestAuthentication, type RequestAuthenticator } from '../../../../src/security/jwt/authenticator.js';
import { JwksCache } from '../../../../src/security/jwt/jwks-cache.js';
import { validateRequestAuthentications } from '../../../../src/security/jwt/parse.js';
import { bearer, ISSUER, jwksText, makeKey, memoryLogger, rejection, req, sign, type TestKey } from './helpers.js';

let rsa: TestKey;
let ec: TestKey;
const cache = new JwksCache({ logger: memoryLogger() });

beforeAll(async () => {
  [rsa, ec] = await Promise.all([makeKey('RS256', 'rsa-1'), makeKey('ES256', 'ec-1')]);
});
afterAll(() => cache.close());

function authn(rules: Record<string, unknown>[]): RequestAuthenticator {
  const policies = validateRequestAuthentications({ requestAuthentications: [{ name: 'jwt', namespace: 'app', jwtRules: rules }] });
  return compileRequestAuthentication(policies, { namespace: 'app', jwks: cache });
}

function rule(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { issuer: ISSUER, jwks: jwksText(rsa, ec), ...extra };
}

describe('token locations', () => {
  it('reads the access_token query parameter by default', async () => {
    const token = await sign(rsa);
    const result = await authn([rule()]).authenticate(req({ query: { access_token: token } }));
    expect(result.principal).toBe(`${ISSUER}/alice`);
    // A query parameter is not a header: nothing to remove.
    expect(result.removeHeaders).toEqual([]);
  });

  it('with fromHeaders, reads only that header and strips its custom prefix', async () => {
    const token = await sign(rsa);
    const a = authn([rule({ fromHeaders: [{ name: 'X-Jwt-Assertion', prefix: 'Token ' }] })]);
    const result = await a.authenticate(req({ headers: { 'x-jwt-assertion': `Token ${token}` } }));
    expect(result.principal).toBe(`${ISSUER}/alice`);
    expect(result.removeHeaders).toEqual(['x-jwt-assertion']);
    // The defaults no longer apply.
    expect(await a.authenticate(bearer(token))).toBe(NO_TOKEN_RESULT);
    expect(await a.authenticate(req({ query: { access_token: token } }))).toBe(NO_TOKEN_RESULT);
    // Without its prefix, the header holds no token.
    expect(await a.authenticate(req({ headers: { 'x-jwt-assertion': token } }))).toBe(NO_TOKEN_RESULT);
  });

  it('with fromHeaders and no prefix, takes the whole value', async () => {
    const token = await sign(rsa);
    const a = authn([rule({ fromHeaders: [{ name: 'x-goog-iap-jwt-assertion' }] })]);
    expect((await a.authenticate(req({ headers: { 'x-goog-iap-jwt-assertion': token } }))).principal).toBeDefined();
  });

  it('with fromParams, reads only those parameters', async () => {
    const token = await sign(rsa);
    const a = authn([rule({ fromParams: ['my_token'] })]);
    expect((await a.authenticate(req({ query: { my_token: token } }))).principal).toBe(`${ISSUER}/alice`);
    expect(await a.authenticate(req({ query: { access_token: token } }))).toBe(NO_TOKEN_RESULT);
    expect(await a.authenticate(bearer(token))).toBe(NO_TOKEN_RESULT);
  });

  it('with fromCookies, reads the adapter cookie accessor, or else the Cookie header', async () => {
    const token = await sign(rsa);
    const a = authn([rule({ fromCookies: ['session'] })]);
    expect((await a.authenticate(req({ cookies: { session: token } }))).principal).toBeDefined();
    const viaHeader = await a.authenticate(req({ headers: { cookie: `theme=dark; session=${token}; x=1` } }));
    expect(viaHeader.principal).toBe(`${ISSUER}/alice`);
    // The Cookie header holds other cookies too: it is never removed.
    expect(viaHeader.removeHeaders).toEqual([]);
  });

  it('rejects when any of several tokens is invalid; the first valid one names the principal', async () => {
    const a = authn([rule({ fromHeaders: [{ name: 'authorization', prefix: 'Bearer ' }, { name: 'x-token' }] })]);
    const good = await sign(rsa, { sub: 'first' });
    const second = await sign(ec, { sub: 'second' });
    const both = await a.authenticate(req({ headers: { authorization: `Bearer ${good}`, 'x-token': second } }));
    expect(both.principal).toBe(`${ISSUER}/first`);
    expect(both.removeHeaders).toEqual(['authorization', 'x-token']);
    const expired = await sign(ec, { expIn: -3600 });
    const mixed = a.authenticate(req({ headers: { authorization: `Bearer ${good}`, 'x-token': expired } }));
    expect((await rejection(mixed)).reason).toBe('expired');
  });
});

describe('forwarded request', () => {
  it('removes the token header unless forwardOriginalToken', async () => {
    const token = await sign(rsa);
    expect((await authn([rule({ forwardOriginalToken: false })]).authenticate(bearer(token))).removeHeaders).toEqual([
      'authorization',
    ]);
    expect((await authn([rule({ forwardOriginalToken: true })]).authenticate(bearer(token))).removeHeaders).toEqual([]);
  });

  it('copies string, number, boolean and nested claims to headers, skipping lists, maps and unsafe values', async () => {
    const token = await sign(rsa, {
      claims: {
        email: 'a@example.com',
        level: 3,
        admin: false,
        realm: { role: 'editor' },
        'https://example.com/tenant': 'acme',
        groups: ['x', 'y'],
        profile: { a: 1 },
        evil: 'x\r\nx-admin: true',
      },
    });
    const claims = ['email', 'level', 'admin', 'realm.role', 'https://example.com/tenant', 'groups', 'profile', 'evil', 'missing'];
    const a = authn([rule({ outputClaimToHeaders: claims.map((claim, i) => ({ header: `X-Claim-${i}`, claim })) })]);
    expect((await a.authenticate(bearer(token))).addHeaders).toEqual([
      ['x-claim-0', 'a@example.com'],
      ['x-claim-1', '3'],
      ['x-claim-2', 'false'],
      ['x-claim-3', 'editor'],
      ['x-claim-4', 'acme'],
    ]);
  });

  it('outputs the payload as base64url', async () => {
    const token = await sign(rsa, { claims: { n: 1 } });
    const result = await authn([rule({ outputPayloadToHeader: 'x-jwt-payload' })]).authenticate(bearer(token));
    const [[name, value]] = result.addHeaders as [[string, string]];
    expect(name).toBe('x-jwt-payload');
    expect(value).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(JSON.parse(Buffer.from(value, 'base64url').toString('utf8'))).toEqual(result.claims);
  });
});
