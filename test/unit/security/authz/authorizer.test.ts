/**
 * The Authorizer's contract beyond single decisions: shared frozen results,
 * the denial error, which policies are in effect, lazy header reads and a
 * re-entrant check.
 */
import { describe, expect, it } from 'vitest';
import { httpStatusOf, isMeshError } from '../../../../src/errors.js';
import { compileAuthorization } from '../../../../src/security/authz/compile.js';
import { permissionDeniedError } from '../../../../src/security/authz/decision.js';
import { parseAuthorizationPolicies } from '../../../../src/security/authz/parse.js';
import { request, SLEEP, WORKLOAD } from './support.js';
import { docs, istio } from './yaml.js';

function authorizer(yaml: string) {
  return compileAuthorization(parseAuthorizationPolicies(yaml), WORKLOAD);
}

describe('Authorizer', () => {
  it('returns the same frozen decision object for the same outcome', () => {
    const authz = authorizer(istio('deny-delete', 'action: DENY\nrules: [{ to: [{ operation: { methods: [DELETE] } }] }]'));
    const a = authz.check(request({ method: 'DELETE' }));
    const b = authz.check(request({ method: 'DELETE', path: '/other' }));
    expect(a).toBe(b);
    expect(Object.isFrozen(a)).toBe(true);
    expect(a).toEqual({ allowed: false, policy: 'foo/deny-delete', reason: 'denied by policy foo/deny-delete' });
  });

  it('gives short reasons for every outcome', () => {
    expect(authorizer(istio('x', 'rules: [{ to: [{ operation: { methods: [PUT] } }] }]')).check(request()).reason).toBe(
      'no ALLOW policy matched',
    );
    expect(authorizer('').check(request()).reason).toBe('no ALLOW policy applies');
    expect(authorizer(istio('all', 'rules: [{}]')).check(request()).reason).toBe('allowed by policy foo/all');
  });

  it('lists the policies in effect for the workload', () => {
    const yaml = docs(
      istio('here', '{}'),
      istio('elsewhere', '{}', 'bar'),
      istio('mesh', '{}', 'istio-system'),
      istio('other-app', 'selector: { matchLabels: { app: reviews } }'),
    );
    expect(authorizer(yaml).policies).toEqual(['foo/here', 'istio-system/mesh']);
  });

  it('turns a denial into MESH_PERMISSION_DENIED with the policy and principal', () => {
    const decision = authorizer(istio('deny-all', 'action: DENY\nrules: [{}]')).check(request());
    if (decision.allowed) throw new Error('expected a denial');
    const err = permissionDeniedError(decision, SLEEP);
    expect(isMeshError(err)).toBe(true);
    expect(err.code).toBe('MESH_PERMISSION_DENIED');
    expect(httpStatusOf(err)).toBe(403);
    expect(err.message).toBe('denied by policy foo/deny-all');
    expect(err.details).toEqual({ policy: 'foo/deny-all', principal: SLEEP });
  });

  it('reads headers only when a policy has a header condition', () => {
    const read: string[] = [];
    const req = {
      ...request(),
      header: (name: string) => {
        read.push(name);
        return undefined;
      },
    };
    authorizer(istio('a', 'rules: [{ to: [{ operation: { paths: [/x] } }] }]')).check(req);
    expect(read).toEqual([]);
    authorizer(istio('a', 'rules: [{ when: [{ key: "request.headers[X-Env]", values: [prod] }] }]')).check(req);
    expect(read).toEqual(['x-env']);
  });

  it('survives a check from inside a header callback', () => {
    const authz = authorizer(
      docs(
        istio('by-header', 'rules: [{ when: [{ key: "request.headers[x-ok]", values: ["yes"] }] }]'),
        istio('by-path', 'rules: [{ to: [{ operation: { paths: [/inner] } }] }]'),
      ),
    );
    let inner: boolean | undefined;
    const outer = authz.check({
      ...request({ path: '/outer' }),
      header: () => {
        inner = authz.check(request({ path: '/inner' })).allowed;
        return 'no';
      },
    });
    expect([outer.allowed, inner]).toEqual([false, true]);
  });

  it('recovers when a header callback throws', () => {
    const authz = authorizer(istio('h', 'rules: [{ when: [{ key: "request.headers[x]", values: [a] }] }]'));
    const boom = {
      ...request(),
      header: () => {
        throw new Error('boom');
      },
    };
    expect(() => authz.check(boom)).toThrow('boom');
    expect(authz.check(request({ headers: { x: 'a' } })).allowed).toBe(true);
  });
});
