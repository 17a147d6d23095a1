/**
 * Request authentication against inline key sets: which tokens pass, which
 * are rejected and why, and the header mutations a success produces.
 */
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_TOKEN_RESULT } from '../../../../src/security/jwt/auth-result.js';
import { compileRequestAuthentication, type RequestAuthenticator } from '../../../../src/security/jwt/authenticator.js';
import { JwksCache } from '../../../../src/security/jwt/jwks-cache.js';
import { validateRequestAuthentications } from '../../../../src/security/jwt/parse.js';
import { bearer, ISSUER, jwksText, makeKey, memoryLogger, rawToken, rejection, req, sign, type TestKey } from './helpers.js';

let rsa: TestKey;
let ec: TestKey;
let other: TestKey;
const cache = new JwksCache({ logger: memoryLogger() });

beforeAll(async () => {
  [rsa, ec, other] = await Promise.all([makeKey('RS256', 'rsa-1'), makeKey('ES256', 'ec-1'), makeKey('RS256', 'other')]);
});
afterAll(() => cache.close());

function authn(rules: Record<string, unknown>[]): RequestAuthenticator {
  const policies = validateRequestAuthentications({ requestAuthentications: [{ name: 'jwt', namespace: 'app', jwtRules: rules }] });
  return compileRequestAuthentication(policies, { namespace: 'app', jwks: cache });
}

function rule(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { issuer: ISSUER, jwks: jwksText(rsa, ec), ...extra };
}

describe('valid tokens', () => {
  it.each(['RS256', 'ES256'] as const)('accepts %s and names the principal <iss>/<sub>', async (alg) => {
    const key = alg === 'RS256' ? rsa : ec;
    const token = await sign(key, { sub: 'bob', aud: 'reviews', claims: { azp: 'web-app', groups: ['a'] } });
    const result = await authn([rule()]).authenticate(bearer(token));
    expect(result.principal).toBe(`${ISSUER}/bob`);
    expect(result.audiences).toEqual(['reviews']);
    expect(result.presenter).toBe('web-app');
    expect(result.claims?.groups).toEqual(['a']);
    expect(result.removeHeaders).toEqual(['authorization']);
    expect(result.addHeaders).toEqual([]);
  });

  it('accepts the Bearer scheme in any case, and a token with no sub but no principal', async () => {
    const token = await sign(rsa, { sub: null });
    const result = await authn([rule()]).authenticate(req({ headers: { authorization: `bearer ${token}` } }));
    expect(result.principal).toBeUndefined();
    expect(result.claims?.iss).toBe(ISSUER);
  });

  it('accepts a token without kid by trying each key that could have signed it', async () => {
    const second = await makeKey('RS256', 'rsa-2');
    const token = await sign(second, { kid: null });
    const a = authn([{ issuer: ISSUER, jwks: jwksText(rsa, second) }]);
    expect((await a.authenticate(bearer(token))).principal).toBe(`${ISSUER}/alice`);
  });
});

describe('every asymmetric family', () => {
  it.each(['PS256', 'EdDSA'] as const)('accepts %s', async (alg) => {
    const key = await makeKey(alg, `${alg}-kid`);
    const token = await sign(key);
    expect((await authn([{ issuer: ISSUER, jwks: jwksText(key) }]).authenticate(bearer(token))).principal).toBe(
      `${ISSUER}/alice`,
    );
  });
});

describe('time checks (Istio tolerates 60 s of skew)', () => {
  it('rejects an expired token', async () => {
    const token = await sign(rsa, { expIn: -120 });
    expect(await rejection(authn([rule()]).authenticate(bearer(token)))).toEqual({
      reason: 'expired',
      issuer: ISSUER,
      message: 'JWT has expired',
    });
  });

  it('rejects a token that is not valid yet', async () => {
    const token = await sign(rsa, { nbfIn: 120 });
    expect((await rejection(authn([rule()]).authenticate(bearer(token)))).reason).toBe('not_yet_valid');
  });

  it('accepts exp and nbf within the skew', async () => {
    const expired = await sign(rsa, { expIn: -30 });
    const early = await sign(rsa, { nbfIn: 30 });
    const a = authn([rule()]);
    expect((await a.authenticate(bearer(expired))).principal).toBe(`${ISSUER}/alice`);
    expect((await a.authenticate(bearer(early))).principal).toBe(`${ISSUER}/alice`);
  });

  it('rejects an exp that is not a number', async () => {
    const token = await sign(rsa, { expIn: null, claims: { exp: 'tomorrow' } as never });
    expect((await rejection(authn([rule()]).authenticate(bearer(token)))).reason).toBe('invalid_claims');
  });

  it('accepts a token with no exp, as Envoy does', async () => {
    const token = await sign(rsa, { expIn: null });
    expect((await authn([rule()]).authenticate(bearer(token))).principal).toBe(`${ISSUER}/alice`);
  });
});

describe('issuer and audience', () => {
  it('rejects a token from an issuer no rule names, before any key lookup', async () => {
    const token = await sign(rsa, { iss: 'https://evil.example.com' });
    expect(await rejection(authn([rule()]).authenticate(bearer(token)))).toEqual({
      reason: 'unknown_issuer',
      issuer: 'https://evil.example.com',
      message: 'JWT issuer is not accepted',
    });
  });

  it('picks the rule, and so the keys, by the token issuer', async () => {
    const a = authn([rule(), { issuer: 'https://other.example.com', jwks: jwksText(other) }]);
    const mine = await sign(rsa);
    const theirs = await sign(other, { iss: 'https://other.example.com' });
    expect((await a.authenticate(bearer(mine))).principal).toBe(`${ISSUER}/alice`);
    expect((await a.authenticate(bearer(theirs))).principal).toBe('https://other.example.com/alice');
    // The other issuer's key does not verify a token claiming to be ours.
    const forged = await sign(other, { kid: 'rsa-1' });
    expect((await rejection(a.authenticate(bearer(forged)))).reason).toBe('bad_signature');
  });

  it('a rule with no issuer (jwksUri only) accepts any issuer whose token its keys verify', async () => {
    const a = authn([{ jwksUri: 'https://keys.example.com/jwks', jwks: jwksText(rsa) }]);
    const token = await sign(rsa, { iss: 'https://anyone.example.com' });
    expect((await a.authenticate(bearer(token))).principal).toBe('https://anyone.example.com/alice');
  });

  it('rejects a wrong audience', async () => {
    const token = await sign(rsa, { aud: 'ratings' });
    expect((await rejection(authn([rule({ audiences: ['reviews'] })]).authenticate(bearer(token)))).reason).toBe(
      'audience_mismatch',
    );
  });

  it('accepts any audience of the list, and a token listing several audiences', async () => {
    const a = authn([rule({ audiences: ['reviews', 'details'] })]);
    expect((await a.authenticate(bearer(await sign(rsa, { aud: 'details' })))).audiences).toEqual(['details']);
    const several = await sign(rsa, { aud: ['web', 'reviews'] });
    expect((await a.authenticate(bearer(several))).audiences).toEqual(['web', 'reviews']);
    expect((await rejection(a.authenticate(bearer(await sign(rsa))))).reason).toBe('audience_mismatch');
  });

  it('does not check aud when the rule lists no audiences', async () => {
    expect((await authn([rule()]).authenticate(bearer(await sign(rsa, { aud: 'anything' })))).principal).toBeDefined();
  });
});

describe('algorithms and signatures', () => {
  it('refuses alg none', async () => {
    const token = rawToken({ alg: 'none', kid: 'rsa-1' }, { iss: ISSUER, sub: 'mallory' });
    expect(await rejection(authn([rule()]).authenticate(bearer(token)))).toMatchObject({ reason: 'algorithm_not_allowed' });
  });

  it('refuses HS256, including one keyed with the RSA public key (algorithm confusion)', async () => {
    const a = authn([rule()]);
    const secret = new TextEncoder().encode('a shared secret that is long enough!');
    const hs = await new SignJWT({ iss: ISSUER, sub: 'mallory' }).setProtectedHeader({ alg: 'HS256', kid: 'rsa-1' }).sign(secret);
    expect((await rejection(a.authenticate(bearer(hs)))).reason).toBe('algorithm_not_allowed');
    const confused = await new SignJWT({ iss: ISSUER, sub: 'mallory' })
      .setProtectedHeader({ alg: 'HS256', kid: 'rsa-1' })
      .sign(new TextEncoder().encode(JSON.stringify(rsa.jwk)));
    expect((await rejection(a.authenticate(bearer(confused)))).reason).toBe('algorithm_not_allowed');
  });

  it('rejects a bad signature', async () => {
    const token = await sign(rsa);
    const [h, p, s] = token.split('.') as [string, string, string];
    const flipped = `${h}.${p}.${s.slice(0, -4)}${s.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
    expect((await rejection(authn([rule()]).authenticate(bearer(flipped)))).reason).toBe('bad_signature');
  });

  it('rejects a payload changed after signing', async () => {
    const token = await sign(rsa, { sub: 'alice' });
    const [h, , s] = token.split('.') as [string, string, string];
    const forged = `${h}.${Buffer.from(JSON.stringify({ iss: ISSUER, sub: 'admin' })).toString('base64url')}.${s}`;
    expect((await rejection(authn([rule()]).authenticate(bearer(forged)))).reason).toBe('bad_signature');
  });

  it('rejects a kid the key set does not have', async () => {
    const token = await sign(other, { kid: 'nope' });
    expect((await rejection(authn([rule()]).authenticate(bearer(token)))).reason).toBe('unknown_key');
  });
});

describe('malformed tokens', () => {
  it.each([
    ['garbage', 'not-a-jwt'],
    ['two segments', 'eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0'],
    ['non-JSON payload', 'eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2ln'],
    ['five segments (JWE)', 'a.b.c.d.e'],
  ])('rejects %s as malformed', async (_name, token) => {
    expect(await rejection(authn([rule()]).authenticate(bearer(token)))).toEqual({
      reason: 'malformed',
      message: 'JWT is malformed',
    });
  });

  it('rejects a huge token before parsing it', async () => {
    const huge = `${'a'.repeat(1_000_000)}.b.c`;
    expect((await rejection(authn([rule()]).authenticate(bearer(huge)))).reason).toBe('too_large');
  });

  it('never puts the token or its claims in the error', async () => {
    const token = await sign(rsa, { expIn: -3600, sub: 'secret-subject' });
    const err: unknown = await authn([rule()])
      .authenticate(bearer(token))
      .catch((e: unknown) => e);
    const text = JSON.stringify({ message: (err as Error).message, details: (err as { details: unknown }).details });
    expect(text).not.toContain('secret-subject');
    expect(text).not.toContain(token.split('.')[1]);
    expect((err as Error).cause).toBeUndefined();
  });
});

describe('no token', () => {
  it('passes with no principal even when a policy applies (authorization decides)', async () => {
    const a = authn([rule()]);
    expect(a.active).toBe(true);
    const pending = a.authenticate(req());
    expect(await pending).toBe(NO_TOKEN_RESULT);
    expect(Object.isFrozen(NO_TOKEN_RESULT)).toBe(true);
    // The same already-resolved promise every time: nothing allocated.
    expect(a.authenticate(req())).toBe(pending);
  });

  it('treats another auth scheme or an empty bearer as no token', async () => {
    const a = authn([rule()]);
    expect(await a.authenticate(req({ headers: { authorization: 'Basic dXNlcjpwYXNz' } }))).toBe(NO_TOKEN_RESULT);
    expect(await a.authenticate(req({ headers: { authorization: 'Bearer ' } }))).toBe(NO_TOKEN_RESULT);
  });

  it('passes everything, reading nothing, when no policy applies', async () => {
    const a = compileRequestAuthentication([], { namespace: 'app', jwks: cache });
    expect(a.active).toBe(false);
    const r = bearer('garbage');
    expect(await a.authenticate(r)).toBe(NO_TOKEN_RESULT);
    expect(r.headerReads).toEqual([]);
  });
});
