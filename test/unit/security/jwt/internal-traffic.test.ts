/**
 * JWKS fetches are internal traffic: they bypass whatever global dispatcher
 * the mesh installed, and run outside the async context of the request that
 * needed the keys (so a tracer does not parent them under that request).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { channel } from 'node:diagnostics_channel';
import { Agent, type Dispatcher, getGlobalDispatcher, setGlobalDispatcher } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { compileRequestAuthentication } from '../../../../src/security/jwt/authenticator.js';
import { JwksCache } from '../../../../src/security/jwt/jwks-cache.js';
import { validateRequestAuthentications } from '../../../../src/security/jwt/parse.js';
import { bearer, ISSUER, jwksText, makeKey, memoryLogger, sign, startJwksServer } from './helpers.js';

class CountingAgent extends Agent {
  calls = 0;
  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    this.calls++;
    return super.dispatch(options, handler);
  }
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('JWKS fetches', () => {
  it('do not use the global dispatcher and do not run in the request async context', async () => {
    const key = await makeKey('ES256', 'k');
    const server = await startJwksServer(jwksText(key));
    cleanups.push(() => server.close());
    const previous = getGlobalDispatcher();
    const global = new CountingAgent();
    setGlobalDispatcher(global);
    cleanups.push(async () => {
      setGlobalDispatcher(previous);
      await global.close();
    });
    const requestContext = new AsyncLocalStorage<string>();
    const seen: (string | undefined)[] = [];
    const onCreate = () => seen.push(requestContext.getStore());
    channel('undici:request:create').subscribe(onCreate);
    cleanups.push(() => {
      channel('undici:request:create').unsubscribe(onCreate);
    });

    const cache = new JwksCache({ logger: memoryLogger() });
    cleanups.push(() => cache.close());
    const policies = validateRequestAuthentications([{ jwtRules: [{ issuer: ISSUER, jwksUri: server.url }] }]);
    const authn = compileRequestAuthentication(policies, { namespace: 'default', jwks: cache });
    const token = await sign(key);
    const result = await requestContext.run('inbound request', () => authn.authenticate(bearer(token)));

    expect(result.principal).toBe(`${ISSUER}/alice`);
    expect(server.hits()).toBe(1);
    expect(global.calls).toBe(0);
    expect(seen).toEqual([undefined]);
  });
});
