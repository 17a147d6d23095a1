/**
 * `loadBalancer.warmup`: slow start, Istio's DestinationRule `warmup` and
 * Envoy's `slow_start_config`. A new endpoint's weight ramps from
 * `minimumPercent` of its own up to all of it over `duration`.
 *
 * It belongs to a whole service, as Envoy's belongs to a cluster: the ramp
 * scales the endpoint's weight, and every picker of the service (the
 * subsets' too) reads that one weight. So a subset cannot set its own, and
 * a service can warm only when every picker it builds honours weights
 * without hashing on them: a ring or table rebuilt as weights move would
 * send a key to a new endpoint at every step.
 */
import { z } from 'zod';
import { duration, shown } from './fields.js';
import { effectiveLoadBalancer, type LbConfigIssue } from './lb-levels.js';

/** The policies whose pickers read weights and rebuild cheaply: the ones a ramp can drive. */
export const WARMUP_POLICIES: readonly string[] = ['round-robin', 'least-request', 'random', 'peak-ewma'];

export const DEFAULT_WARMUP_MINIMUM_PERCENT = 10;
export const DEFAULT_WARMUP_AGGRESSION = 1;

export const warmupSchema = z.strictObject({
  duration: duration.refine((ms) => ms > 0, { error: 'must be longer than 0' }),
  minimumPercent: z
    .number()
    .min(0, { error: (iss) => `must be a percentage from 0 to 100, got ${shown(iss.input)}` })
    .max(100, { error: (iss) => `must be a percentage from 0 to 100, got ${shown(iss.input)}` })
    .optional(),
  // Envoy's aggression is a divisor in an exponent: 0 or less has no meaning.
  aggression: z
    .number()
    .gt(0, { error: (iss) => `must be greater than 0 (1 ramps linearly), got ${shown(iss.input)}` })
    .refine(Number.isFinite, { error: (iss) => `must be a finite number, got ${shown(iss.input)}` })
    .optional(),
});

export type WarmupConfig = z.output<typeof warmupSchema>;

interface LbLevel {
  readonly policy?: string | undefined;
  readonly config?: Readonly<Record<string, unknown>> | undefined;
  readonly warmup?: WarmupConfig | undefined;
}

interface WarmupShape {
  readonly mesh: { readonly loadBalancer?: LbLevel | undefined };
  readonly services: Readonly<
    Record<string, { readonly loadBalancer?: LbLevel | undefined; readonly subsets?: Readonly<Record<string, { readonly loadBalancer?: LbLevel | undefined }>> | undefined }>
  >;
}

/**
 * The policies a service's pickers use: its own, then each subset's, with
 * the subset (or undefined for the service itself) that uses it.
 */
function policiesOf(mesh: LbLevel | undefined, svc: WarmupShape['services'][string]): Array<[string, string | undefined]> {
  const out: Array<[string, string | undefined]> = [[effectiveLoadBalancer([mesh, svc.loadBalancer]).policy, undefined]];
  for (const [name, sub] of Object.entries(svc.subsets ?? {})) {
    out.push([effectiveLoadBalancer([mesh, svc.loadBalancer, sub.loadBalancer]).policy, name]);
  }
  return out;
}

/**
 * The warmup a service's endpoints ramp by, or undefined when they do not:
 * none is set, or (for one inherited from the mesh) a picker of the service
 * cannot ramp. A service's own warmup with such a picker is a config error
 * (warmupIssues), so it never reaches here.
 */
export function effectiveWarmup(mesh: LbLevel | undefined, svc: WarmupShape['services'][string]): WarmupConfig | undefined {
  const warmup = svc.loadBalancer?.warmup ?? mesh?.warmup;
  if (warmup === undefined) return undefined;
  return policiesOf(mesh, svc).every(([policy]) => WARMUP_POLICIES.includes(policy)) ? warmup : undefined;
}

/**
 * A subset's own warmup, and a service's warmup beside a picker that cannot
 * ramp. A mesh-wide warmup is a default: services it cannot apply to do
 * without it, as documented, rather than failing the whole config.
 */
export function warmupIssues(cfg: WarmupShape): LbConfigIssue[] {
  const issues: LbConfigIssue[] = [];
  for (const [name, svc] of Object.entries(cfg.services)) {
    for (const [subset, sub] of Object.entries(svc.subsets ?? {})) {
      if (sub.loadBalancer?.warmup === undefined) continue;
      issues.push({
        path: ['services', name, 'subsets', subset, 'loadBalancer', 'warmup'],
        message: `a warmup ramps an endpoint's weight in every subset of the service at once, so it is set for the whole service: move it to services.${name}.loadBalancer.warmup`,
      });
    }
    if (svc.loadBalancer?.warmup === undefined) continue;
    for (const [policy, subset] of policiesOf(cfg.mesh.loadBalancer, svc)) {
      if (WARMUP_POLICIES.includes(policy)) continue;
      const who = subset === undefined ? `the service's policy "${policy}"` : `subset "${subset}" uses "${policy}", which`;
      issues.push({
        path: ['services', name, 'loadBalancer', 'warmup'],
        message: `${who} cannot ramp an endpoint's weight (a hashing or custom policy would move keys at every step); warmup works with ${WARMUP_POLICIES.join(', ')}`,
      });
      break;
    }
  }
  return issues;
}
