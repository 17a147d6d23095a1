/**
 * The config model, as one schema: the YAML file, `createMesh({ config })`,
 * env vars and (later) xDS all produce this shape, and it is validated once,
 * here, at the boundary. Objects are strict so a misspelt field is an error,
 * not a silently ignored setting.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { parseDuration } from './duration.js';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_NAME = /^(?=.{1,253}$)[A-Za-z0-9_]([-A-Za-z0-9_]*[A-Za-z0-9])?(\.[A-Za-z0-9_]([-A-Za-z0-9_]*[A-Za-z0-9])?)*\.?$/;
const LABEL_KEY = /^([a-z0-9.-]{1,253}\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

export const LB_POLICIES = ['peak-ewma', 'least-request', 'round-robin', 'random', 'ring-hash', 'maglev'] as const;
export type LbPolicyName = (typeof LB_POLICIES)[number];

export const duration = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const ms = typeof value === 'number' ? value : parseDuration(value);
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) {
    ctx.addIssue({
      code: 'custom',
      message: `${JSON.stringify(value)} is not a duration; write milliseconds as a number or a string like "250ms", "5s", "1m30s"`,
    });
    return z.NEVER;
  }
  return ms;
});

const port = z
  .number({ error: 'must be a port number' })
  .int({ error: 'must be a whole number' })
  .min(1, { error: 'must be a port from 1 to 65535' })
  .max(65535, { error: 'must be a port from 1 to 65535' });

const hostName = z.string().refine((h) => isIP(h) !== 0 || DNS_NAME.test(h), {
  error: (iss) => `${JSON.stringify(iss.input)} is not an IP address or DNS name`,
});

const labels = z.record(
  z.string().regex(LABEL_KEY, { error: (iss) => `label key ${JSON.stringify(iss.input)} is not a valid label name` }),
  z.string().max(63, { error: 'label values are at most 63 characters' }),
);

/** `host:port`, `host`, `[v6]:port` or `[v6]`. */
export function parseHostPort(text: string): { address: string; port: number | undefined } | string {
  let host: string;
  let portText: string | undefined;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) return 'has an unclosed "["';
    host = text.slice(1, close);
    const rest = text.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) return 'has text after "]" that is not ":port"';
    portText = rest === '' ? undefined : rest.slice(1);
    if (isIP(host) !== 6) return `"${host}" in brackets is not an IPv6 address`;
  } else {
    const colon = text.lastIndexOf(':');
    if (colon >= 0 && text.indexOf(':') !== colon) {
      if (isIP(text) === 6) return { address: text, port: undefined };
      return 'is not host:port (write IPv6 addresses as [addr]:port)';
    }
    host = colon >= 0 ? text.slice(0, colon) : text;
    portText = colon >= 0 ? text.slice(colon + 1) : undefined;
    if (isIP(host) === 0 && !DNS_NAME.test(host)) return `host "${host}" is not an IP address or DNS name`;
  }
  if (portText === undefined) return { address: host, port: undefined };
  const p = Number(portText);
  if (!/^\d+$/.test(portText) || p < 1 || p > 65535) return `port "${portText}" is not a port from 1 to 65535`;
  return { address: host, port: p };
}

const endpointObject = z.strictObject({
  address: hostName,
  port: port.optional(),
  weight: z.number().int({ error: 'must be a whole number' }).min(1).max(1_000_000).optional(),
  region: z.string().optional(),
  zone: z.string().optional(),
  priority: z.number().int().min(0).max(16).optional(),
  labels: labels.optional(),
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

const hashOn = z.union([
  z.strictObject({ header: z.string().min(1).toLowerCase() }),
  z.strictObject({ cookie: z.string().min(1) }),
  z.strictObject({ sourceIp: z.literal(true) }),
  z.strictObject({ queryParameter: z.string().min(1) }),
]);

export const loadBalancerSchema = z
  .strictObject({
    policy: z.enum(LB_POLICIES, {
      error: (iss) => `unknown policy ${JSON.stringify(iss.input)}; expected one of ${LB_POLICIES.join(', ')}`,
    }),
    hashOn: hashOn.optional(),
    ringSize: z
      .strictObject({
        min: z.number().int().min(1).max(8_388_608).default(1024),
        max: z.number().int().min(1).max(8_388_608).default(8_388_608),
      })
      .refine((r) => r.min <= r.max, { error: 'min must not exceed max' })
      .optional(),
    maglevTableSize: z
      .number()
      .int()
      .min(3)
      .max(5_000_011)
      .refine(isPrime, { error: 'must be a prime number' })
      .optional(),
    localityAware: z.boolean().optional(),
    panicThreshold: z.number().min(0).max(100, { error: 'is a percentage from 0 to 100' }).optional(),
  })
  .partial({ policy: true });

const subset = z.strictObject({
  labels: labels,
  loadBalancer: loadBalancerSchema.optional(),
});

const discoveryUri = z.string().regex(/^[a-z][a-z0-9+.-]*:.+$/, {
  error: (iss) => `${JSON.stringify(iss.input)} is not a discovery URI such as "dns:reviews.internal:9080"`,
});

export const serviceSchema = z
  .strictObject({
    namespace: z
      .string()
      .regex(DNS_LABEL, { error: (iss) => `${JSON.stringify(iss.input)} is not a valid namespace name` })
      .optional(),
    hosts: z.array(hostName).optional(),
    port: port.optional(),
    endpoints: z.array(endpointEntry).optional(),
    discovery: discoveryUri.optional(),
    loadBalancer: loadBalancerSchema.optional(),
    subsets: z.record(z.string(), subset).optional(),
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
        message: 'needs endpoints or a discovery URI',
      });
    }
    svc.endpoints?.forEach((ep, i) => {
      if (ep.port === undefined && svc.port === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['endpoints', i],
          message: `endpoint "${ep.address}" has no port and the service sets no port`,
        });
      }
    });
  });

export const meshSettingsSchema = z.strictObject({
  serviceName: z.string().min(1).optional(),
  namespace: z
    .string()
    .regex(DNS_LABEL, { error: (iss) => `${JSON.stringify(iss.input)} is not a valid namespace name` })
    .default('default'),
  clusterDomain: hostName.default('cluster.local'),
  region: z.string().default(''),
  zone: z.string().default(''),
  dnsRefreshInterval: duration.default(5000),
  loadBalancer: loadBalancerSchema.default({ policy: 'peak-ewma' }),
});

export const meshConfigSchema = z
  .strictObject({
    mesh: meshSettingsSchema.default(() => meshSettingsSchema.parse({})),
    services: z.record(z.string(), serviceSchema).default({}),
  })
  .superRefine((cfg, ctx) => {
    for (const name of Object.keys(cfg.services)) {
      if (!DNS_LABEL.test(name) || name.length > 63) {
        ctx.addIssue({
          code: 'custom',
          path: ['services', name],
          message: `service name "${name}" must be a DNS label (lowercase letters, digits, "-"; at most 63)`,
        });
      }
    }
  });

/** What users write (YAML, `createMesh({ config })`). */
export type MeshConfigInput = z.input<typeof meshConfigSchema>;
/** The validated, defaulted model the mesh runs on. */
export type MeshConfig = z.output<typeof meshConfigSchema>;
export type ServiceConfig = z.output<typeof serviceSchema>;
export type LoadBalancerConfig = z.output<typeof loadBalancerSchema>;
export type MeshSettings = z.output<typeof meshSettingsSchema>;

function isPrime(n: number): boolean {
  if (n < 2) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
}
