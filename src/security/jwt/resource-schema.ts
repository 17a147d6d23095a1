/**
 * The two ways to write a RequestAuthentication:
 *
 * - Istio's resource verbatim (security.istio.io/v1 or v1beta1), as
 *   `kubectl get -o yaml` prints it, so server-set metadata and `status`
 *   are accepted and ignored;
 * - our compact form: the same jwtRules, without the Kubernetes envelope,
 *   and with the selector's labels written directly.
 *
 * Both produce a policy whose namespace may still be unset; parse.ts fills
 * in the default.
 */
import { z } from 'zod';
import type { RequestAuthenticationPolicy } from './model.js';
import { jwtRuleSchema } from './rule-schema.js';

export type ParsedPolicy = Omit<RequestAuthenticationPolicy, 'namespace'> & { readonly namespace: string | undefined };

export const API_VERSIONS = ['security.istio.io/v1', 'security.istio.io/v1beta1'] as const;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const resourceName = z.string().refine((s) => s.length <= 253 && DNS_SUBDOMAIN.test(s), {
  error: (iss) => `${JSON.stringify(iss.input)} is not a valid resource name (lowercase letters, digits, "-" and ".")`,
});

const namespace = z.string().refine((s) => s.length <= 63 && DNS_LABEL.test(s), {
  error: (iss) =>
    `${JSON.stringify(iss.input)} is not a valid namespace (a DNS label: lowercase letters, digits and "-", at most 63 characters)`,
});

const matchLabels = z.record(
  z.string().min(1, { error: 'label names must not be empty' }),
  z.string().refine((v) => !v.includes('*'), { error: 'label values cannot contain "*"; selectors match exactly' }),
);

// Kubernetes ObjectMeta: what the API server adds is accepted and ignored,
// and anything else is still a typo worth reporting.
const metadata = z.strictObject({
  name: resourceName,
  namespace: namespace.optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  generateName: z.string().optional(),
  selfLink: z.string().optional(),
  uid: z.string().optional(),
  resourceVersion: z.string().optional(),
  generation: z.number().optional(),
  creationTimestamp: z.unknown().optional(),
  deletionTimestamp: z.unknown().optional(),
  deletionGracePeriodSeconds: z.number().optional(),
  ownerReferences: z.array(z.unknown()).optional(),
  finalizers: z.array(z.string()).optional(),
  managedFields: z.array(z.unknown()).optional(),
});

const targetRef = z.strictObject({
  group: z.string().optional(),
  kind: z.string().min(1),
  name: z.string().min(1),
  namespace: z.string().optional(),
});

const spec = z
  .strictObject({
    selector: z.strictObject({ matchLabels: matchLabels.optional() }).optional(),
    targetRef: targetRef.optional(),
    targetRefs: z.array(targetRef).optional(),
    jwtRules: z.array(jwtRuleSchema).optional(),
  })
  .superRefine((s, ctx) => {
    const set = (['selector', 'targetRef', 'targetRefs'] as const).filter((k) => s[k] !== undefined);
    if (set.length > 1) {
      ctx.addIssue({
        code: 'custom',
        path: [set[1]!],
        message: `set only one of selector, targetRef and targetRefs; got ${set.join(' and ')}`,
      });
    }
  });

export const istioResourceSchema = z
  .strictObject({
    apiVersion: z.enum(API_VERSIONS, {
      error: (iss) =>
        `must be one of ${API_VERSIONS.map((v) => JSON.stringify(v)).join(', ')}, got ${JSON.stringify(iss.input)}`,
    }),
    kind: z.literal('RequestAuthentication'),
    metadata,
    spec: spec.optional(),
    status: z.unknown().optional(),
  })
  .transform(
    (r): ParsedPolicy => ({
      name: r.metadata.name,
      namespace: r.metadata.namespace,
      selector: labelsOrUndefined(r.spec?.selector?.matchLabels),
      targetsGateways: r.spec?.targetRef !== undefined || r.spec?.targetRefs !== undefined,
      jwtRules: r.spec?.jwtRules ?? [],
    }),
  );

export const compactPolicySchema = z
  .strictObject({
    name: resourceName.optional(),
    namespace: namespace.optional(),
    selector: matchLabels.optional(),
    jwtRules: z.array(jwtRuleSchema).min(1),
  })
  .transform(
    (p): Omit<ParsedPolicy, 'name'> & { name: string | undefined } => ({
      name: p.name,
      namespace: p.namespace,
      selector: labelsOrUndefined(p.selector),
      targetsGateways: false,
      jwtRules: p.jwtRules,
    }),
  );

/** An empty matchLabels selects everything, exactly like no selector. */
function labelsOrUndefined(labels: Record<string, string> | undefined): Record<string, string> | undefined {
  return labels === undefined || Object.keys(labels).length === 0 ? undefined : labels;
}
