/**
 * Gateway API GRPCRoutes bound to Services in a config file: method
 * matches as request paths, the GRPCRoute precedence, and what is refused.
 * Calls through them: test/integration/grpc-route.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { loadConfigText as load, configProblems as problems } from '../../../helpers/config-text.js';

const SERVICES = `
mesh: { namespace: shop }
services:
  echo: { port: 50051, endpoints: ["10.0.0.1:50051"] }
  echo-v2: { port: 50051, endpoints: ["10.0.0.2:50051"] }
`;

function grpcRoute(name: string, rules: string): string {
  return `
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: { name: ${name}, namespace: shop }
spec:
  parentRefs: [{ kind: Service, name: echo }]
  rules:
${rules}`;
}

describe('GRPCRoute bound to a Service', () => {
  it('matches methods as paths, most specific first', () => {
    const config = load(`${SERVICES}${grpcRoute(
      'echo',
      `    - backendRefs: [{ name: echo, port: 50051 }]
    - matches: [{ method: { service: pkg.Echo } }]
      backendRefs: [{ name: echo-v2, port: 50051 }]
    - matches: [{ method: { service: pkg.Echo, method: Get }, headers: [{ name: X-Tenant, value: a }] }]
      backendRefs: [{ name: echo-v2, port: 50051 }]
    - matches: [{ method: { method: Get } }, { method: { type: RegularExpression, service: "pkg\\\\..*", method: "Get|Put" } }]
      backendRefs: [{ name: echo, port: 50051 }]`,
    )}`);
    const routes = config.services.echo!.routes!;
    expect(routes.map((r) => [r.name, r.match])).toEqual([
      ['echo.2', [{ uri: { exact: '/pkg.Echo/Get' }, headers: { 'x-tenant': { exact: 'a' } } }]],
      // The longest service first (8 characters against the pattern's 7), then the longest method.
      ['echo.1', [{ uri: { prefix: '/pkg.Echo/' } }]],
      ['echo.3.1', [{ uri: { regex: '/(?:pkg\\..*)/(?:Get|Put)' } }]],
      ['echo.3.0', [{ uri: { regex: '/[^/]+/Get' } }]],
      ['echo.0', [{}]],
    ]);
  });

  it('names what it cannot take, and refuses a Service routed by both an HTTPRoute and a GRPCRoute', () => {
    const message = problems(`${SERVICES}${grpcRoute(
      'bad',
      `    - matches: [{ method: { type: Exact } }, { method: { service: "a/b", method: Get } }, { method: { type: Prefix, service: a } }]
      filters: [{ type: RequestRedirect, requestRedirect: { hostname: x } }]
      backendRefs: [{ name: echo, port: 50051 }]`,
    )}`);
    expect(message).toContain('GRPCRoute shop/bad).spec.rules[0].matches[0].method: set service, method or both');
    expect(message).toContain('spec.rules[0].matches[1].method: names a service or method with "/"');
    expect(message).toContain('spec.rules[0].matches[2].method.type: must be Exact or RegularExpression, got "Prefix"');
    expect(message).toContain('spec.rules[0].filters: takes RequestHeaderModifier, ResponseHeaderModifier and RequestMirror on a GRPCRoute');
    const both = problems(`${SERVICES}${grpcRoute('g', '    - backendRefs: [{ name: echo, port: 50051 }]\n')}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: h, namespace: shop }
spec: { parentRefs: [{ kind: Service, name: echo }], rules: [{ backendRefs: [{ name: echo, port: 50051 }] }] }
`);
    expect(both).toMatch(/GRPCRoute shop\/g\): sets routes of service "echo", which document \d \(HTTPRoute shop\/h\) sets too; keep one/);
  });
});
