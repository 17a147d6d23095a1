/**
 * What the control plane says, in a Gateway API route's `status.parents`,
 * about each Service the route is bound to: whether the route's current
 * generation is in force (`Accepted`) and whether its backends resolved
 * (`ResolvedRefs`). `kubectl get httproute -o yaml` is where a Gateway API
 * user looks first; without these entries a refused route looks the same as
 * a working one.
 *
 * Only the entries under our controller name are ours: another
 * implementation (a gateway, istiod) may describe the same route for its own
 * parents, and its entries are kept as they are. A condition's
 * lastTransitionTime moves only when its status does, as the Gateway API
 * asks, so an unchanged verdict rewrites nothing.
 */
import type { ConfigIssue } from '../../config/config-error.js';

/** The controller name written in our entries (a domain-prefixed path, as the Gateway API requires). */
export const ROUTE_CONTROLLER_NAME = 'proxyless.dev/control-plane';

/** The Gateway API caps a condition's message at 32,768 characters. */
const MESSAGE_MAX = 32_768;

/** Whether the route's current generation is served, and if not why. */
export type RouteVerdict =
  | { readonly accepted: true }
  | {
      readonly accepted: false;
      readonly issues: readonly ConfigIssue[];
      /** The generation still served in its place, if one ever was accepted. */
      readonly servingGeneration: number | undefined;
    };

export interface RouteCondition {
  readonly type: 'Accepted' | 'ResolvedRefs';
  readonly status: 'True' | 'False';
  readonly reason: string;
  readonly message: string;
  readonly observedGeneration: number;
  readonly lastTransitionTime: string;
}

export interface RouteParentStatus {
  readonly parentRef: Readonly<Record<string, unknown>>;
  readonly controllerName: string;
  readonly conditions: readonly RouteCondition[];
}

/** The parts of a route object the status is computed from. */
export interface StatusedRoute {
  readonly metadata: { readonly namespace?: string; readonly generation?: number };
  readonly spec?: { readonly parentRefs?: unknown };
  readonly status?: { readonly parents?: unknown };
}

/**
 * The route's new `status.parents` (others' entries first, as they were,
 * then ours, one per Service parent), or undefined when ours would not
 * change. `now` is the RFC 3339 time for conditions that change status.
 */
export function routeParents(route: StatusedRoute, verdict: RouteVerdict, now: string): RouteParentStatus[] | undefined {
  const previous = Array.isArray(route.status?.parents) ? (route.status.parents as RouteParentStatus[]) : [];
  const others = previous.filter((p) => p?.controllerName !== ROUTE_CONTROLLER_NAME);
  const mine = previous.filter((p) => p?.controllerName === ROUTE_CONTROLLER_NAME);
  const generation = route.metadata.generation ?? 0;
  const wanted = serviceParents(route.spec?.parentRefs).map((parentRef): RouteParentStatus => {
    const before = mine.find((p) => sameParent(p.parentRef, parentRef, route.metadata.namespace));
    return {
      parentRef,
      controllerName: ROUTE_CONTROLLER_NAME,
      conditions: conditions(verdict, generation).map((c) => {
        const old = Array.isArray(before?.conditions) ? before.conditions.find((o) => o.type === c.type) : undefined;
        return { ...c, lastTransitionTime: old !== undefined && old.status === c.status ? old.lastTransitionTime : now };
      }),
    };
  });
  if (JSON.stringify(wanted) === JSON.stringify(mine)) return undefined;
  return [...others, ...wanted];
}

/** The parentRefs that name a Service: the mesh's (GAMMA) parents; Gateways belong to gateways. */
function serviceParents(refs: unknown): Record<string, unknown>[] {
  if (!Array.isArray(refs)) return [];
  return refs.filter((r): r is Record<string, unknown> => typeof r === 'object' && r !== null && r.kind === 'Service' && (r.group === undefined || r.group === '' || r.group === 'core'));
}

function sameParent(a: Readonly<Record<string, unknown>> | undefined, b: Readonly<Record<string, unknown>>, routeNamespace: string | undefined): boolean {
  if (a === undefined) return false;
  const key = (r: Readonly<Record<string, unknown>>) => [r.kind, r.group ?? '', r.namespace ?? routeNamespace, r.name, r.port, r.sectionName].join('|');
  return key(a) === key(b);
}

type Unstamped = Omit<RouteCondition, 'lastTransitionTime'>;

function conditions(verdict: RouteVerdict, generation: number): Unstamped[] {
  if (verdict.accepted) {
    return [
      { type: 'Accepted', status: 'True', reason: 'Accepted', message: 'proxyless serves this route', observedGeneration: generation },
      { type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs', message: 'every backend resolved', observedGeneration: generation },
    ];
  }
  const all = verdict.issues.map(line);
  const serving =
    verdict.servingGeneration === undefined ? 'The route is not served until it is fixed.' : `Generation ${verdict.servingGeneration} keeps being served until it is fixed.`;
  const refs = verdict.issues.filter(isReferenceIssue);
  const parentMissing = verdict.issues.some((i) => /\.spec\.parentRefs\[\d+\]/.test(i.path) && NOT_CONFIGURED.test(i.message));
  return [
    {
      type: 'Accepted',
      status: 'False',
      reason: parentMissing ? 'NoMatchingParent' : 'UnsupportedValue',
      message: cap(`${all.join('; ')}. ${serving}`),
      observedGeneration: generation,
    },
    refs.length === 0
      ? { type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs', message: 'every backend resolved', observedGeneration: generation }
      : { type: 'ResolvedRefs', status: 'False', reason: referenceReason(refs), message: cap(refs.map(line).join('; ')), observedGeneration: generation },
  ];
}

// The translator's wording for these (config/istio/http-route-actions.ts, mesh-route.ts); tests hold the two together.
const NOT_CONFIGURED = /which is not a configured service/;
const NEEDS_GRANT = /needs a ReferenceGrant/;
const NOT_A_SERVICE = /proxyless sends to Services/;

/** An issue with a backend (backendRefs, or a mirror filter's backendRef). */
function isReferenceIssue(i: ConfigIssue): boolean {
  return /\.backendRefs?\b/.test(i.path) && (NOT_CONFIGURED.test(i.message) || NEEDS_GRANT.test(i.message) || NOT_A_SERVICE.test(i.message));
}

function referenceReason(refs: readonly ConfigIssue[]): string {
  if (refs.some((i) => NEEDS_GRANT.test(i.message))) return 'RefNotPermitted';
  if (refs.some((i) => NOT_A_SERVICE.test(i.message))) return 'InvalidKind';
  return 'BackendNotFound';
}

function line(i: ConfigIssue): string {
  return i.path === '' ? i.message : `${i.path}: ${i.message}`;
}

function cap(message: string): string {
  return message.length <= MESSAGE_MAX ? message : `${message.slice(0, MESSAGE_MAX - 1)}…`;
}
