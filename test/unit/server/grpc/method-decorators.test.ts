import { expect, test } from 'vitest';
import { Authorize, isMeshError, RateLimit, Timeout } from '../../../../src/index.js';
import { decoratedPolicy } from '../../../../src/server/grpc/method-decorators.js';
import { compileMethodRules, mergePolicies } from '../../../../src/server/grpc/method-rules.js';

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isMeshError(err) ? `${err.code}: ${err.message}` : String(err);
  }
  return undefined;
}

test('bad decorator options fail at once with MESH_INVALID_ARGUMENT naming the decorator', () => {
  expect(code(() => Timeout(-5))).toMatch(/^MESH_INVALID_ARGUMENT: @Timeout\(\): the timeout \(ms\) must be a positive number, got -5/);
  expect(code(() => RateLimit({ maxTokens: 0 }))).toMatch(/^MESH_INVALID_ARGUMENT: @RateLimit\(\): maxTokens must be a positive number/);
  expect(code(() => Authorize({}))).toMatch(/^MESH_INVALID_ARGUMENT: @Authorize\(\): needs at least one of/);
  expect(code(() => Authorize({ principals: [] }))).toMatch(/principals must be a non-empty list/);
  expect(code(() => Authorize({ principal: ['x'] } as never))).toMatch(/unknown option "principal"/);
});

test('a decorator on a field is refused, in either mode', () => {
  const context = { kind: 'field', name: 'x' } as unknown as ClassMethodDecoratorContext;
  expect(code(() => Timeout(10)((() => undefined) as never, context))).toMatch(/applies to a method or a class, not a field/);
  expect(code(() => Timeout(10)({}, 'x', { value: 3 }))).toMatch(/applies to a method or a class, not to x/);
});

test('method rules override class rules; @Authorize rules add up', () => {
  class Handlers {
    get() {}
  }
  Authorize({ namespaces: ['shop'] })(Handlers);
  Timeout(5_000)(Handlers);
  const d = Object.getOwnPropertyDescriptor(Handlers.prototype, 'get')!;
  Timeout(100)(Handlers.prototype, 'get', d);
  Authorize({ requestPrincipals: ['*'] })(Handlers.prototype, 'get', d);
  const merged = mergePolicies(decoratedPolicy(Handlers), decoratedPolicy(Handlers.prototype.get));
  expect(merged?.timeoutMs).toBe(100);
  expect(merged?.authorize).toHaveLength(2);
  const rules = compileMethodRules('/shop.Users/Get', merged!, 'shop');
  expect(rules.needsToken).toBe(true);
  expect(rules.authorizer?.policies).toHaveLength(2);
});

test('a bad @Authorize pattern is refused when the handler is registered, naming the method', () => {
  expect(code(() => compileMethodRules('/shop.Users/Get', { authorize: [{ claims: { 'a]b': 'x' } }] }, 'shop'))).toMatch(
    /^MESH_INVALID_ARGUMENT: .*@Authorize on \/shop\.Users\/Get/,
  );
});
