/**
 * Linkerd's retry and timeout annotations on HTTPRoutes, GRPCRoutes and
 * (in Kubernetes mode) Services, as the config model's retries and timeout:
 * what each becomes, that a route's replace its Service's whole, and the
 * path-precise refusal of what proxyless cannot honour. That the retries
 * then happen, through the control plane, is in
 * test/integration/control-plane-kubernetes.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../../src/config/validate.js';
import { clusterServices } from '../../../../src/control/kubernetes/cluster-services.js';
import { compileRetryPolicy } from '../../../../src/resilience/retry-policy.js';
import { configProblems, loadConfigText } from '../../../helpers/config-text.js';

const SERVICES = `
mesh: { namespace: shop }
services:
  ratings: { port: 9080, endpoints: ["10.0.1.1:9080"], retries: { perTryTimeout: 700ms, retryOn: reset } }
`;

function route(kind: 'HTTPRoute' | 'GRPCRoute', annotations: Record<string, string>, rules = '[{ backendRefs: [{ name: ratings, port: 9080 }] }]'): string {
  return `
---
apiVersion: gateway.networking.k8s.io/v1
kind: ${kind}
metadata:
  name: ratings
  namespace: shop
  annotations: ${JSON.stringify(annotations)}
spec:
  parentRefs: [{ kind: Service, name: ratings }]
  rules: ${rules}`;
}

describe("Linkerd's retry and timeout annotations", () => {
  it('on an HTTPRoute: statuses and ranges, the limit, each try’s and the request’s timeout, over the rules’ own', () => {
    const config = loadConfigText(
      `${SERVICES}${route(
        'HTTPRoute',
        { 'retry.linkerd.io/http': '5xx, 500-502,429', 'retry.linkerd.io/limit': '3', 'retry.linkerd.io/timeout': '300ms', 'timeout.linkerd.io/request': '2s' },
        `
    - matches: [{ path: { value: /slow } }]
      backendRefs: [{ name: ratings, port: 9080 }]
      timeouts: { request: 9s }
      retry: { attempts: 1 }
    - matches: [{ path: { value: /old } }]
      filters: [{ type: RequestRedirect, requestRedirect: { path: { type: ReplaceFullPath, replaceFullPath: /new } } }]`,
      )}`,
    );
    const [slow, redirect] = config.services.ratings!.routes!;
    expect(slow!.timeout).toBe(2000);
    expect(slow!.retries).toEqual({ attempts: 3, retryOn: ['5xx', 'retriable-status-codes'], retriableStatusCodes: [500, 501, 502, 429], perTryTimeout: 300 });
    // A redirect answers at once: nothing to time or retry.
    expect(redirect!.retries).toBeUndefined();
    expect(redirect!.timeout).toBeUndefined();
  });

  it('a route’s retry annotations replace its Service’s retries whole, as in Linkerd: no per-try timeout, no retryOn of the Service’s', () => {
    const config = loadConfigText(`${SERVICES}${route('HTTPRoute', { 'retry.linkerd.io/limit': '2' })}`);
    const ratings = config.services.ratings!;
    const r = ratings.routes![0]!;
    expect(r.retries).toEqual({ attempts: 2, retryOn: [], retriableStatusCodes: [], perTryTimeout: 0 });
    const policy = compileRetryPolicy([ratings.retries, r.retries]);
    expect(policy.maxRetries).toBe(2);
    expect(policy.perTryTimeoutMs).toBeUndefined();
    // Linkerd's default limit is one retry.
    const one = loadConfigText(`${SERVICES}${route('HTTPRoute', { 'retry.linkerd.io/http': 'gateway-error' })}`);
    expect(one.services.ratings!.routes![0]!.retries).toMatchObject({ attempts: 1, retryOn: ['gateway-error'] });
  });

  it('on a GRPCRoute: gRPC statuses by Linkerd’s names', () => {
    const config = loadConfigText(`${SERVICES}${route('GRPCRoute', { 'retry.linkerd.io/grpc': 'unavailable,Deadline-Exceeded' })}`);
    expect(config.services.ratings!.routes![0]!.retries).toMatchObject({ attempts: 1, retryOn: ['unavailable', 'deadline-exceeded'] });
  });

  it.each([
    ['HTTPRoute', { 'retry.linkerd.io/grpc': 'unavailable' }, '["retry.linkerd.io/grpc"]: is not valid on an HTTPRoute, as in Linkerd: use retry.linkerd.io/http'],
    ['GRPCRoute', { 'retry.linkerd.io/http': '5xx' }, '["retry.linkerd.io/http"]: is not valid on a GRPCRoute, as in Linkerd: use retry.linkerd.io/grpc'],
    ['HTTPRoute', { 'retry.linkerd.io/http': '5xx,599-500' }, 'has "599-500": each element must be a status (504), a range (500-504), gateway-error or 5xx'],
    ['HTTPRoute', { 'retry.linkerd.io/limit': '11' }, '["retry.linkerd.io/limit"]: must be a whole number from 0 to 10, got "11"'],
    ['HTTPRoute', { 'retry.linkerd.io/timeout': '300' }, '["retry.linkerd.io/timeout"]: must be a duration with its unit, such as 300ms or 5s, got "300"'],
    ['HTTPRoute', { 'timeout.linkerd.io/response': '1s' }, 'is not supported: proxyless has no per-attempt timeout that is not retried'],
    ['HTTPRoute', { 'timeout.linkerd.io/idle': '1m' }, 'is not supported: proxyless does not bound how long a stream may sit idle'],
    ['GRPCRoute', { 'retry.linkerd.io/grpc': 'unknown' }, 'each element must be one of cancelled, deadline-exceeded, internal, resource-exhausted, unavailable'],
    ['HTTPRoute', { 'retry.linkerd.io/budget': '20%' }, 'is not one of Linkerd’s retry annotations (http, grpc, limit, timeout)'],
  ] as const)('refuses on a %s %j, naming the annotation', (kind, annotations, message) => {
    const problems = configProblems(`${SERVICES}${route(kind, annotations)}`);
    expect(problems).toContain(`document 2 (${kind} shop/ratings).metadata.annotations[`);
    expect(problems).toContain(message);
  });

  it('Linkerd’s own HTTPRoute beside the Gateway API’s of the same name: both routes, named apart; a Server parent is skipped', () => {
    const linkerd = route('HTTPRoute', {}, '[{ matches: [{ path: { value: /l } }], backendRefs: [{ name: ratings, port: 9080 }] }]')
      .replace('gateway.networking.k8s.io/v1', 'policy.linkerd.io/v1beta3')
      .replace('parentRefs: [{ kind: Service, name: ratings }]', 'parentRefs: [{ kind: Service, name: ratings }, { group: policy.linkerd.io, kind: Server, name: ratings-http }]');
    const config = loadConfigText(`${SERVICES}${linkerd}${route('HTTPRoute', {}, '[{ matches: [{ path: { value: /g } }], backendRefs: [{ name: ratings, port: 9080 }] }]')}`);
    expect(config.services.ratings!.routes!.map((r) => r.name).sort()).toEqual(['ratings.0', 'ratings@policy.linkerd.io.0']);
    // Only Linkerd's Server kind is skipped; another group's parent is still an error.
    expect(configProblems(`${SERVICES}${linkerd.replace('group: policy.linkerd.io, kind: Server', 'group: example.com, kind: Server')}`)).toContain(
      'is a example.com/Server; proxyless routes for parents of kind Service',
    );
  });

  it('on a Service (Kubernetes mode): every port’s service; what cannot be honoured is reported and the rest applied', () => {
    const svc = (name: string, annotations: Record<string, string>) => ({
      metadata: { name, namespace: 'shop', annotations },
      spec: { ports: [{ name: 'http', port: 9080 }, { name: 'admin', port: 9901 }] },
    });
    const built = clusterServices({
      services: [
        svc('ratings', { 'retry.linkerd.io/http': '503', 'retry.linkerd.io/limit': '2', 'timeout.linkerd.io/request': '5s' }),
        svc('reviews', { 'retry.linkerd.io/http': '5xx', 'timeout.linkerd.io/idle': '1m', 'retry.linkerd.io/timeout': 'soon' }),
      ],
      slices: [],
      podLabels: new Map(),
      meshNamespace: 'shop',
    });
    const services = built.services as Record<string, { retries?: unknown; timeout?: unknown }>;
    for (const key of ['ratings', 'ratings-admin']) {
      expect(services[key], key).toMatchObject({ timeout: '5s', retries: { attempts: 2, retryOn: ['retriable-status-codes'], retriableStatusCodes: [503], perTryTimeout: 0 } });
    }
    // The bad per-try timeout is left out: no per-try timeout, as if it were not there.
    expect(services.reviews).toMatchObject({ retries: { attempts: 1, retryOn: ['5xx'], perTryTimeout: 0 } });
    expect(services.reviews!.timeout).toBeUndefined();
    expect(built.ignored).toEqual([
      'Service shop/reviews.metadata.annotations["timeout.linkerd.io/idle"]: is not supported: proxyless does not bound how long a stream may sit idle; use timeout.linkerd.io/request',
      'Service shop/reviews.metadata.annotations["retry.linkerd.io/timeout"]: must be a duration with its unit, such as 300ms or 5s, got "soon"',
    ]);
    // What they become is valid config.
    expect(() => validateConfig({ mesh: { namespace: 'shop' }, services: built.services }, 'cluster')).not.toThrow();
  });
});
