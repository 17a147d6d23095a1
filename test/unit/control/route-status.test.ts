/**
 * A Gateway API route's `status.parents` as the control plane writes it:
 * one entry per Service parent under our controller name, conditions whose
 * reasons come from what the real translator said of the route, other
 * controllers' entries kept, and nothing rewritten when nothing changed.
 * Writing it to a (fake) API server through kubectl's eyes is in
 * test/integration/control-plane-kubernetes.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { ConfigIssue } from '../../../src/config/config-error.js';
import { ROUTE_CONTROLLER_NAME, type RouteParentStatus, routeParents } from '../../../src/control/kubernetes/route-status.js';
import { configIssues } from '../../helpers/config-text.js';

const T0 = '2026-12-03T10:00:00Z';
const T1 = '2026-12-03T11:00:00Z';

/** What the real translator says of an HTTPRoute in namespace shop with these rules and parents. */
function issuesOf(spec: string): readonly ConfigIssue[] {
  const text = `
mesh: { namespace: shop }
services:
  reviews: { port: 9080, endpoints: ["10.0.0.1:9080"] }
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: reviews, namespace: shop }
spec:
${spec}`;
  return configIssues(text);
}

const PARENT = { group: '', kind: 'Service', name: 'reviews', port: 9080 };

function route(parents: unknown[] | undefined, generation = 3, parentRefs: unknown[] = [PARENT, { name: 'edge' }]) {
  return { metadata: { namespace: 'shop', generation }, spec: { parentRefs }, ...(parents === undefined ? {} : { status: { parents } }) };
}

function conditionsOf(parents: RouteParentStatus[] | undefined) {
  const mine = parents?.filter((p) => p.controllerName === ROUTE_CONTROLLER_NAME) ?? [];
  expect(mine).toHaveLength(1);
  return Object.fromEntries(mine[0]!.conditions.map((c) => [c.type, c]));
}

describe('route status', () => {
  it('accepts a served route on each Service parent only, and keeps other controllers’ entries', () => {
    const gateway = { parentRef: { name: 'edge' }, controllerName: 'example.net/gateway', conditions: [{ type: 'Accepted', status: 'True' }] };
    const parents = routeParents(route([gateway]), { accepted: true }, T0);
    expect(parents?.[0]).toEqual(gateway);
    expect(parents?.[1]).toEqual({
      parentRef: PARENT,
      controllerName: ROUTE_CONTROLLER_NAME,
      conditions: [
        { type: 'Accepted', status: 'True', reason: 'Accepted', message: 'proxyless serves this route', observedGeneration: 3, lastTransitionTime: T0 },
        { type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs', message: 'every backend resolved', observedGeneration: 3, lastTransitionTime: T0 },
      ],
    });
    expect(parents).toHaveLength(2);
  });

  it('rewrites nothing when the verdict and generation are unchanged, and moves a transition time only with its status', () => {
    const accepted = routeParents(route(undefined), { accepted: true }, T0)!;
    expect(routeParents(route(accepted), { accepted: true }, T1)).toBeUndefined();
    // A new generation changes observedGeneration, not the transition time.
    const next = conditionsOf(routeParents(route(accepted, 4), { accepted: true }, T1));
    expect(next.Accepted).toMatchObject({ observedGeneration: 4, lastTransitionTime: T0 });
    const issues = issuesOf(`  parentRefs: [{ group: "", kind: Service, name: reviews }]
  rules: [{ backendRefs: [{ name: reviews, port: 9080 }], filters: [{ type: ExtensionRef, extensionRef: { group: x, kind: y, name: z } }] }]`);
    const refused = conditionsOf(routeParents(route(accepted, 4), { accepted: false, issues, servingGeneration: 3 }, T1));
    expect(refused.Accepted).toMatchObject({ status: 'False', reason: 'UnsupportedValue', observedGeneration: 4, lastTransitionTime: T1 });
    expect(refused.Accepted!.message).toMatch(/spec\.rules\[0\]\.filters\[0\].*Generation 3 keeps being served until it is fixed\.$/);
    expect(refused.ResolvedRefs).toMatchObject({ status: 'True', lastTransitionTime: T0 });
  });

  it('names the reference problem the translator found: RefNotPermitted, BackendNotFound, InvalidKind', () => {
    const cases: [string, string][] = [
      ['backendRefs: [{ name: reviews, namespace: other, port: 9080 }]', 'RefNotPermitted'],
      ['backendRefs: [{ name: nowhere, port: 9080 }]', 'BackendNotFound'],
      ['backendRefs: [{ group: example.com, kind: Bucket, name: b }]', 'InvalidKind'],
      ['filters: [{ type: RequestMirror, requestMirror: { backendRef: { name: nowhere, port: 9080 } } }]', 'BackendNotFound'],
    ];
    for (const [rule, reason] of cases) {
      const issues = issuesOf(`  parentRefs: [{ group: "", kind: Service, name: reviews }]\n  rules: [{ ${rule} }]`);
      const c = conditionsOf(routeParents(route(undefined), { accepted: false, issues, servingGeneration: undefined }, T0));
      expect(c.ResolvedRefs, rule).toMatchObject({ status: 'False', reason });
      expect(c.Accepted, rule).toMatchObject({ status: 'False', reason: 'UnsupportedValue' });
      expect(c.Accepted!.message, rule).toMatch(/The route is not served until it is fixed\.$/);
    }
  });

  it('says NoMatchingParent when a parent Service is unknown', () => {
    const issues = issuesOf('  parentRefs: [{ group: "", kind: Service, name: nowhere }]');
    const c = conditionsOf(routeParents(route(undefined, 1, [{ group: '', kind: 'Service', name: 'nowhere' }]), { accepted: false, issues, servingGeneration: undefined }, T0));
    expect(c.Accepted).toMatchObject({ status: 'False', reason: 'NoMatchingParent' });
    expect(c.Accepted!.message).toContain('names Service "shop/nowhere", which is not a configured service');
  });

  it('removes its entries from a route no longer bound to a Service', () => {
    const accepted = routeParents(route(undefined), { accepted: true }, T0)!;
    expect(routeParents(route(accepted, 4, [{ name: 'edge' }]), { accepted: true }, T1)).toEqual([]);
    expect(routeParents(route(undefined, 4, [{ name: 'edge' }]), { accepted: true }, T1)).toBeUndefined();
  });
});
