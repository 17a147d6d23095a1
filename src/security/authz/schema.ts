/**
 * zod schemas for AuthorizationPolicy, in both formats:
 *
 * - the Istio resource (security.istio.io/v1 and v1beta1), field for field,
 *   with `from: [{ source: {...} }]` and `to: [{ operation: {...} }]`;
 * - our compact form, the same policy without the Kubernetes envelope and
 *   the `source`/`operation` wrappers:
 *
 *       name: deny-delete          # metadata.name
 *       namespace: default         # metadata.namespace (optional)
 *       action: DENY               # spec.action (default ALLOW)
 *       selector: { app: reviews } # spec.selector.matchLabels
 *       rules:                     # spec.rules
 *         - from: [{ principals: [cluster.local/ns/default/sa/sleep] }]
 *           to: [{ methods: [DELETE], paths: ["/admin*"] }]
 *           when: [{ key: "request.headers[x-env]", values: [prod] }]
 *
 * Unknown fields are errors. Both output the model in model.ts. CUSTOM is
 * turned away in parse.ts, before these run, so the message can name the
 * policy.
 */
import { z } from 'zod';
import type { AuthorizationPolicy, AuthzRule } from './model.js';
import {
  ipBlockProblem,
  methodProblem,
  parsePort,
  pathProblem,
  patternProblem,
  principalProblem,
  serviceAccountProblem,
  whenValueProblem,
} from './values.js';
import { parseWhenKey } from './when-key.js';

const LIST_RULE = 'must list at least one value; leave the field out to match any value';

function checked(problem: (value: string) => string | undefined) {
  return z.string().superRefine((value, ctx) => {
    const message = problem(value);
    if (message !== undefined) ctx.addIssue({ code: 'custom', message });
  });
}

function list<T extends z.ZodType>(item: T) {
  return z.array(item).min(1, { error: LIST_RULE }).optional();
}

const port = z.unknown().transform((value, ctx) => {
  const p = parsePort(value);
  if (typeof p === 'string') {
    ctx.addIssue({ code: 'custom', message: p });
    return z.NEVER;
  }
  return p;
});

const patterns = list(checked(patternProblem));
const principals = list(checked(principalProblem));
const ipBlocks = list(checked(ipBlockProblem));
const accounts = list(checked(serviceAccountProblem).max(320, { error: 'must be at most 320 characters' }));

const sourceSchema = z
  .strictObject({
    principals,
    notPrincipals: principals,
    requestPrincipals: patterns,
    notRequestPrincipals: patterns,
    namespaces: patterns,
    notNamespaces: patterns,
    serviceAccounts: accounts,
    notServiceAccounts: accounts,
    ipBlocks,
    notIpBlocks: ipBlocks,
    remoteIpBlocks: ipBlocks,
    notRemoteIpBlocks: ipBlocks,
  })
  .superRefine((src, ctx) => {
    if (Object.values(src).every((v) => v === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'sets no field; to match any source, leave out `from`' });
    }
    const byIdentity = src.principals ?? src.notPrincipals ?? src.namespaces ?? src.notNamespaces;
    if (byIdentity !== undefined && (src.serviceAccounts ?? src.notServiceAccounts) !== undefined) {
      ctx.addIssue({ code: 'custom', message: 'serviceAccounts cannot be combined with principals or namespaces' });
    }
  });

const operationSchema = z
  .strictObject({
    hosts: patterns,
    notHosts: patterns,
    ports: list(port),
    notPorts: list(port),
    methods: list(checked(methodProblem)),
    notMethods: list(checked(methodProblem)),
    paths: list(checked(pathProblem)),
    notPaths: list(checked(pathProblem)),
  })
  .superRefine((op, ctx) => {
    if (Object.values(op).every((v) => v === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'sets no field; to match any operation, leave out `to`' });
    }
  });

const conditionSchema = z
  .strictObject({
    key: z.string(),
    values: list(z.string()),
    notValues: list(z.string()),
  })
  .superRefine((cond, ctx) => {
    const key = parseWhenKey(cond.key);
    if (typeof key === 'string') {
      ctx.addIssue({ code: 'custom', path: ['key'], message: key });
      return;
    }
    if (cond.values === undefined && cond.notValues === undefined) {
      ctx.addIssue({ code: 'custom', message: `sets neither values nor notValues for ${cond.key}; set at least one` });
    }
    for (const field of ['values', 'notValues'] as const) {
      cond[field]?.forEach((value, i) => {
        const message = whenValueProblem(key.valueType, value);
        if (message !== undefined) ctx.addIssue({ code: 'custom', path: [field, i], message });
      });
    }
  });

function ruleSchema<S extends z.ZodType, O extends z.ZodType>(from: S, to: O) {
  return z.strictObject({
    from: z.array(from).min(1, { error: 'must not be empty; to match any source, leave out `from`' }).optional(),
    to: z.array(to).min(1, { error: 'must not be empty; to match any operation, leave out `to`' }).optional(),
    when: z.array(conditionSchema).optional(),
  });
}

const istioRule = ruleSchema(z.strictObject({ source: sourceSchema }), z.strictObject({ operation: operationSchema }));
const compactRule = ruleSchema(sourceSchema, operationSchema);

const labels = z.record(z.string(), z.string()).superRefine((map, ctx) => {
  for (const [k, v] of Object.entries(map)) {
    if (k === '') ctx.addIssue({ code: 'custom', message: 'has an empty label name' });
    if (k.includes('*') || v.includes('*')) ctx.addIssue({ code: 'custom', path: [k], message: 'selectors take no wildcards' });
  }
});

const action = z.enum(['ALLOW', 'DENY', 'AUDIT'], {
  error: (iss) => `must be ALLOW, DENY or AUDIT, got ${JSON.stringify(iss.input)}`,
});

function denyNeedsRules(p: { action?: string | undefined; rules?: unknown }, ctx: z.RefinementCtx, path: string[]) {
  if (p.action === 'DENY' && p.rules === undefined) {
    ctx.addIssue({
      code: 'custom',
      path,
      message: 'is required for a DENY policy, which never matches without rules; write `rules: [{}]` to deny every request',
    });
  }
}

function rejected(message: string) {
  return z.unknown().superRefine((_, ctx) => ctx.addIssue({ code: 'custom', message }));
}

const TARGET_REF = 'is not supported: targetRefs attach a policy to a Gateway or waypoint; select workloads with selector.matchLabels';

const specSchema = z
  .strictObject({
    selector: z.strictObject({ matchLabels: labels.optional() }).optional(),
    targetRef: rejected(TARGET_REF).optional(),
    targetRefs: rejected(TARGET_REF).optional(),
    action: action.optional(),
    provider: rejected('is only used with action CUSTOM, which proxyless does not support').optional(),
    rules: z.array(istioRule).optional(),
  })
  .superRefine((spec, ctx) => denyNeedsRules(spec, ctx, ['rules']));

/** RFC 1123 subdomain (object names) and label (namespaces), as Kubernetes checks them. */
const SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL = /^(?=.{1,63}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const name = z.string().regex(SUBDOMAIN, { error: 'must be a Kubernetes name: lower-case letters, digits, "-" and "."' });
const namespace = z.string().regex(LABEL, { error: 'must be a namespace name: lower-case letters, digits and "-", at most 63' });

/** ObjectMeta as `kubectl get -o yaml` prints it; only name and namespace are read. */
const metadataSchema = z.strictObject({
  name,
  namespace: namespace.optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  uid: z.unknown().optional(),
  resourceVersion: z.unknown().optional(),
  generation: z.unknown().optional(),
  creationTimestamp: z.unknown().optional(),
  deletionTimestamp: z.unknown().optional(),
  deletionGracePeriodSeconds: z.unknown().optional(),
  managedFields: z.unknown().optional(),
  finalizers: z.unknown().optional(),
  ownerReferences: z.unknown().optional(),
  generateName: z.unknown().optional(),
  selfLink: z.unknown().optional(),
});

type IstioRule = z.output<typeof istioRule>;
type CompactRule = z.output<typeof compactRule>;

function fromIstio(rule: IstioRule): AuthzRule {
  return { from: rule.from?.map((f) => f.source), to: rule.to?.map((t) => t.operation), when: rule.when };
}

export const API_VERSIONS = ['security.istio.io/v1', 'security.istio.io/v1beta1'] as const;

export const istioPolicySchema = z
  .strictObject({
    apiVersion: z.enum(API_VERSIONS, { error: `must be ${API_VERSIONS.join(' or ')}` }),
    kind: z.literal('AuthorizationPolicy'),
    metadata: metadataSchema,
    spec: specSchema.optional(),
    status: z.unknown().optional(),
  })
  .transform(
    (r): AuthorizationPolicy => ({
      name: r.metadata.name,
      namespace: r.metadata.namespace,
      action: r.spec?.action ?? 'ALLOW',
      selector: r.spec?.selector?.matchLabels,
      rules: r.spec?.rules?.map(fromIstio),
    }),
  );

export const compactPolicySchema = z
  .strictObject({
    name,
    namespace: namespace.optional(),
    action: action.optional(),
    selector: labels.optional(),
    rules: z.array(compactRule).optional(),
  })
  .superRefine((p, ctx) => denyNeedsRules(p, ctx, ['rules']))
  .transform(
    (p): AuthorizationPolicy => ({
      name: p.name,
      namespace: p.namespace,
      action: p.action ?? 'ALLOW',
      selector: p.selector,
      rules: p.rules?.map((r: CompactRule): AuthzRule => r),
    }),
  );
