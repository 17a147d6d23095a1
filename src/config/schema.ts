/**
 * The config model, as one schema: the YAML file, `createMesh({ config })`,
 * env vars and (later) xDS all produce this shape, and it is validated once,
 * here, at the boundary. Objects are strict so a misspelt field is an error,
 * not a silently ignored setting.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { DNS_NAME } from '../net/names.js';
import type { AuthorizationPolicy } from '../security/authz/model.js';
import type { RequestAuthenticationPolicy } from '../security/jwt/model.js';
import { distributeSchema } from './distribute-schema.js';
import { failoverIssues, failoverPrioritySchema, failoverSchema } from './failover-schema.js';
import { duration, parseHostPort, shown } from './fields.js';
import { hostClaimIssues } from './host-claims.js';
import { inboundSchema } from './inbound-schema.js';
import { jsonObjectSchema } from './json-object.js';
import { DNS_LABEL, dnsLabel, LABEL_RULE, labelsSchema } from './label-schema.js';
import { inheritedConfigIssues } from './lb-levels.js';
import { isBuiltinLbPolicy, lbPolicyNameSchema } from './lb-policy-name.js';
import { outlierDetectionSchema } from './outlier-schema.js';
import {
  circuitBreakerSchema,
  connectionPoolSchema,
  hedgingSchema,
  rateLimitSchema,
  retriesSchema,
  retryBudgetSchema,
  retryBufferBytesSchema,
  timeoutSchema,
} from './resilience-schema.js';
import { makeRoutesSchema } from './route-schema.js';
import { securitySettingsSchema, serviceTlsSchema } from './security-schema.js';
import { warmupIssues, warmupSchema } from './warmup-schema.js';

export { duration, parseHostPort } from './fields.js';
export { LB_POLICIES, type LbPolicyName } from './lb-policy-name.js';

const port = z
  .number()
  .int({ error: (iss) => `must be a port from 1 to 65535, got ${shown(iss.input)}` })
  .min(1, { error: (iss) => `must be a port from 1 to 65535, got ${shown(iss.input)}` })
  .max(65535, { error: (iss) => `must be a port from 1 to 65535, got ${shown(iss.input)}` });

const hostName = z.string().refine((h) => isIP(h) !== 0 || DNS_NAME.test(h), {
  error: (iss) => `${JSON.stringify(iss.input)} is not an IP address or DNS name`,
});

const endpointObject = z.strictObject({
  address: hostName,
  port: port.optional(),
  weight: z.number().int().min(1).max(1_000_000).optional(),
  region: z.string().optional(),
  zone: z.string().optional(),
  priority: z.number().int().min(0).max(16).optional(),
  labels: labelsSchema.optional(),
});

const endpointEntry = z.union([
  z.string().transform((text, ctx) => {
    const parsed = parseHostPort(text);
    if (typeof parsed === 'string') {
      ctx.addIssue({ code: 'custom', message: `${JSON.stringify(text)} ${parsed}` });
      return z.NEVER;
    }
    return { address: parsed.address, port: parsed.port };
  }),
  endpointObject,
]);

const HASH_KEYS = ['header', 'cookie', 'sourceIp', 'queryParameter'] as const;

/** What ring-hash and maglev hash a request on: exactly one key. */
export type HashOn = { header: string } | { cookie: string } | { sourceIp: true } | { queryParameter: string };

// One strict object with all keys optional plus an exactly-one check, rather
// than a union of four one-key objects: a union can only say "unknown field
// cookie" for `{ header, cookie }`, which is wrong (cookie is a real field).
const hashOn = z
  .strictObject({
    header: z.string().min(1).toLowerCase().optional(),
    cookie: z.string().min(1).optional(),
    sourceIp: z.literal(true, { error: 'must be true to hash on the client address (or leave it out)' }).optional(),
    queryParameter: z.string().min(1).optional(),
  })
  .superRefine((h, ctx) => {
    const set = HASH_KEYS.filter((k) => h[k] !== undefined);
    if (set.length === 0) ctx.addIssue({ code: 'custom', message: `set one of ${HASH_KEYS.join(', ')}` });
    else if (set.length > 1) {
      ctx.addIssue({
        code: 'custom',
        message: `set only one of ${HASH_KEYS.join(', ')}; got ${set.join(' and ')}`,
      });
    }
  })
  .transform((h): HashOn => {
    if (h.header !== undefined) return { header: h.header };
    if (h.cookie !== undefined) return { cookie: h.cookie };
    if (h.sourceIp !== undefined) return { sourceIp: h.sourceIp };
    return { queryParameter: h.queryParameter ?? '' };
  });

export const loadBalancerSchema = z
  .strictObject({
    // A built-in name, or a qualified custom one that the mesh checks against its registry.
    policy: lbPolicyNameSchema,
    hashOn: hashOn.optional(),
    ringSize: z
      .strictObject({
        min: z.number().int().min(1).max(8_388_608).default(1024),
        max: z.number().int().min(1).max(8_388_608).default(8_388_608),
      })
      .superRefine((r, ctx) => {
        if (r.min > r.max) {
          ctx.addIssue({
            code: 'custom',
            message: `min (${r.min}) must not exceed max (${r.max}); min defaults to 1024 when not set`,
          });
        }
      })
      .optional(),
    maglevTableSize: z
      .number()
      .int()
      .min(3)
      .max(5_000_011)
      // Only judge primality inside the range, so 5000012 gets one message, not two.
      .refine((n) => !Number.isInteger(n) || n < 3 || n > 5_000_011 || isPrime(n), {
        error: (iss) => `must be a prime number (such as 65537 or 5000011), got ${shown(iss.input)}`,
      })
      .optional(),
    localityAware: z.boolean().optional(),
    failover: failoverSchema.optional(),
    failoverPriority: failoverPrioritySchema.optional(),
    distribute: distributeSchema.optional(),
    panicThreshold: z
      .number()
      .min(0, { error: (iss) => `must be a percentage from 0 to 100, got ${shown(iss.input)}` })
      .max(100, { error: (iss) => `must be a percentage from 0 to 100, got ${shown(iss.input)}` })
      .optional(),
    // A custom policy's own settings, handed to its factory as PickerOptions.config. JSON only:
    // the control plane carries it in an xDS Struct, and gRPC reads a custom policy's config as JSON.
    config: jsonObjectSchema("the custom policy's settings").optional(),
    // Slow start for new endpoints; which levels and policies may carry it is warmup-schema.ts's check.
    warmup: warmupSchema.optional(),
  })
  .partial({ policy: true })
  .superRefine((lb, ctx) => {
    // The built-ins are configured by the fields above; a config beside one would be silently ignored.
    if (lb.config !== undefined && lb.policy !== undefined && isBuiltinLbPolicy(lb.policy)) {
      ctx.addIssue({
        code: 'custom',
        path: ['config'],
        message: `only a custom policy takes a config; "${lb.policy}" is built in and is set by the other loadBalancer fields (hashOn, ringSize, maglevTableSize, localityAware, failover, failoverPriority, distribute, panicThreshold, warmup)`,
      });
    }
  });

const subset = z.strictObject({
  labels: labelsSchema,
  loadBalancer: loadBalancerSchema.optional(),
});

const discoveryUri = z.string().regex(/^[a-z][a-z0-9+.-]*:.+$/, {
  error: (iss) => `${JSON.stringify(iss.input)} is not a discovery URI such as "dns:reviews.internal:9080"`,
});

const routesSchema = makeRoutesSchema({ retries: retriesSchema, hedging: hedgingSchema, rateLimit: rateLimitSchema });

/** Resilience settings a service may set, and the mesh may default for every service. */
const resilienceFields = {
  timeout: timeoutSchema.optional(),
  retries: retriesSchema.optional(),
  retryBudget: retryBudgetSchema.optional(),
  hedging: hedgingSchema.optional(),
  connectionPool: connectionPoolSchema.optional(),
  circuitBreaker: circuitBreakerSchema.optional(),
  outlierDetection: outlierDetectionSchema.optional(),
};

export const serviceSchema = z
  .strictObject({
    ...resilienceFields,
    rateLimit: rateLimitSchema.optional(),
    routes: routesSchema.optional(),
    namespace: dnsLabel('namespace name').optional(),
    // The Kubernetes Service this entry is (one port of it, an xDS cluster of it), when the key is not its
    // name: Istio's metrics and the spans report it so, and the control plane names its resources after it.
    reportAs: dnsLabel('service name').optional(),
    hosts: z.array(hostName).optional(),
    port: port.optional(),
    endpoints: z.array(endpointEntry).optional(),
    discovery: discoveryUri.optional(),
    loadBalancer: loadBalancerSchema.optional(),
    subsets: z.record(z.string(), subset).optional(),
    tls: serviceTlsSchema.optional(),
  })
  .superRefine((svc, ctx) => {
    if (svc.endpoints !== undefined && svc.discovery !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['discovery'],
        message: 'set either endpoints (static) or discovery, not both',
      });
    }
    if (svc.endpoints === undefined && svc.discovery === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: 'needs either endpoints (a static list) or discovery (a URI such as "dns:reviews.internal:9080")',
      });
    }
    svc.endpoints?.forEach((ep, i) => {
      if (ep.port === undefined && svc.port === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['endpoints', i],
          message: `endpoint "${ep.address}" has no port and the service sets no port; give the endpoint a port or set the service's port`,
        });
      }
    });
  });

export const meshSettingsSchema = z.strictObject({
  serviceName: z.string().min(1).optional(),
  namespace: dnsLabel('namespace name').default('default'),
  clusterDomain: hostName.default('cluster.local'),
  region: z.string().default(''),
  zone: z.string().default(''),
  dnsRefreshInterval: duration.default(5000),
  loadBalancer: loadBalancerSchema.default({ policy: 'peak-ewma' }),
  ...resilienceFields,
  retryBufferBytes: retryBufferBytesSchema.optional(),
  security: securitySettingsSchema.optional(),
  /** Inbound load shedding, rate limit and graceful drain (docs/frameworks.md). */
  inbound: inboundSchema.optional(),
  /** This workload's labels (as on its pod), for policy `selector`s and route `sourceLabels`. */
  labels: labelsSchema.optional(),
});

export const meshConfigSchema = z
  .strictObject({
    mesh: meshSettingsSchema.default(() => meshSettingsSchema.parse({})),
    services: z.record(z.string(), serviceSchema).default({}),
    // Istio resources verbatim or our compact form; each list is validated by
    // its own engine's parser in validate.ts, which knows their semantics.
    authorizationPolicies: z.array(z.unknown()).default([]),
    requestAuthentications: z.array(z.unknown()).default([]),
    // PeerAuthentication resources as written (config/istio folds the ones for this workload into
    // mesh.security.mtls); the control plane translates them for each workload it serves.
    peerAuthentications: z.array(z.unknown()).optional(),
  })
  .superRefine((cfg, ctx) => {
    for (const issue of inheritedConfigIssues(cfg)) ctx.addIssue({ code: 'custom', ...issue });
    for (const issue of warmupIssues(cfg)) ctx.addIssue({ code: 'custom', ...issue });
    for (const issue of failoverIssues(cfg)) ctx.addIssue({ code: 'custom', ...issue });
    for (const issue of hostClaimIssues(cfg)) ctx.addIssue({ code: 'custom', ...issue });
    for (const name of Object.keys(cfg.services)) {
      if (!DNS_LABEL.test(name) || name.length > 63) {
        ctx.addIssue({
          code: 'custom',
          path: ['services', name],
          message: `service name ${JSON.stringify(name)} must be a ${LABEL_RULE}`,
        });
      }
    }
  });

/** What users write (YAML, `createMesh({ config })`). */
export type MeshConfigInput = z.input<typeof meshConfigSchema>;
/** The validated, defaulted model the mesh runs on. */
export type MeshConfig = Omit<z.output<typeof meshConfigSchema>, 'authorizationPolicies' | 'requestAuthentications'> & {
  readonly authorizationPolicies: readonly AuthorizationPolicy[];
  readonly requestAuthentications: readonly RequestAuthenticationPolicy[];
};
export type ServiceConfig = z.output<typeof serviceSchema>;
export type LoadBalancerConfig = z.output<typeof loadBalancerSchema>;
export type MeshSettings = z.output<typeof meshSettingsSchema>;
export type RouteConfig = NonNullable<ServiceConfig['routes']>[number];

function isPrime(n: number): boolean {
  if (n < 2) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
}
