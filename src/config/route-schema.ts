/**
 * A service's `routes`: Istio's VirtualService HTTPRoute in camelCase, so a
 * VirtualService translates field for field. Validated here, once; the
 * route table (src/routing/) compiles the output and trusts it.
 *
 * Semantics worth knowing when translating from Istio:
 * - `regex` matches the whole value (RE2 full-match semantics, as in Envoy),
 *   so `/u/[0-9]+` and `^/u/[0-9]+$` mean the same. Patterns are JavaScript
 *   regexes, not RE2.
 * - uri conditions look at the path without its query string.
 * - with several destinations a missing weight counts as 0 (Istio's rule);
 *   a lone destination gets 100.
 * - fault percentages are required: Istio reads a missing one as "never",
 *   which would silently disable the fault.
 */
import { z } from 'zod';
import { GRPC_STATUS_NAMES } from '../net/grpc-status-names.js';
import { duration, parseHostPort, shown } from './fields.js';
import { type HeaderOperations, headersSchema, matchEntrySchema, regexProblem } from './route-match-schema.js';

/** What the lead's resilience schemas plug in; `z.unknown()` until then. */
export interface RouteSchemaExtras<R extends z.ZodType, H extends z.ZodType, L extends z.ZodType> {
  readonly retries: R;
  readonly hedging: H;
  readonly rateLimit: L;
}

export const MAX_WEIGHT = 100_000;
export const REDIRECT_CODES = [301, 302, 303, 307, 308] as const;

const PERCENT_RULE = (iss: { input: unknown }) => `must be a percentage from 0 to 100, got ${shown(iss.input)}`;
const percent = z.number().min(0, { error: PERCENT_RULE }).max(100, { error: PERCENT_RULE });

/** A plain number, or Istio's `{ value: number }` (its Percent message). */
const percentage = z
  .union([percent, z.strictObject({ value: percent })], {
    error: (iss) =>
      iss.input === undefined ? 'is required (a percentage from 0 to 100, or { value: percentage })' : undefined,
  })
  .transform((p) => (typeof p === 'number' ? p : p.value));

const serviceRef = z.string().min(1);

const destinationSchema = z.strictObject({
  /** Defaults to the service that owns the routes. */
  service: serviceRef.optional(),
  subset: z.string().min(1).optional(),
});

const WEIGHT_RULE = (iss: { input: unknown }) =>
  `must be a whole number from 0 to ${MAX_WEIGHT}, got ${shown(iss.input)}`;

const weightedDestination = z.strictObject({
  destination: destinationSchema,
  weight: z
    .number()
    .int({ error: WEIGHT_RULE })
    .min(0, { error: WEIGHT_RULE })
    .max(MAX_WEIGHT, { error: WEIGHT_RULE })
    .optional(),
  headers: headersSchema.optional(),
});

const destinations = z
  .array(weightedDestination)
  .min(1)
  .superRefine((list, ctx) => {
    if (list.length === 0) return;
    // A lone destination without a weight gets all traffic; with weight 0 it would get none.
    const total = list.reduce((sum, d) => sum + (d.weight ?? (list.length === 1 ? 100 : 0)), 0);
    if (total === 0) {
      ctx.addIssue({
        code: 'custom',
        message: 'weights add up to 0; give at least one destination a weight above 0 (with several destinations, a missing weight counts as 0)',
      });
    }
  })
  .transform((list) => list.map((d) => ({ ...d, weight: d.weight ?? (list.length === 1 ? 100 : 0) })));

/** `host` or `host:port`, checked like an endpoint address. */
const authority = z.string().superRefine((text, ctx) => {
  const parsed = parseHostPort(text);
  if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: `${JSON.stringify(text)} ${parsed}` });
});

const uriPath = z.string().refine((u) => u.startsWith('/'), {
  error: (iss) => `must start with "/", got ${shown(iss.input)}`,
});

const redirectSchema = z
  .strictObject({
    /** Replaces the whole path; the query is kept unless this has its own. */
    uri: uriPath.optional(),
    authority: authority.optional(),
    scheme: z.enum(['http', 'https']).optional(),
    redirectCode: z
      .number()
      .refine((c) => (REDIRECT_CODES as readonly number[]).includes(c), {
        error: (iss) => `must be one of ${REDIRECT_CODES.join(', ')}, got ${shown(iss.input)}`,
      })
      .default(301),
  })
  .superRefine((r, ctx) => {
    if (r.uri === undefined && r.authority === undefined && r.scheme === undefined) {
      ctx.addIssue({ code: 'custom', message: 'set at least one of uri, authority, scheme' });
    }
  });

/** Envoy's default limit on a direct response body (max_direct_response_body_size_bytes): a config valid here is valid there. */
export const DIRECT_RESPONSE_BODY_MAX = 4096;

const directResponseSchema = z.strictObject({
  status: z
    .number()
    .int({ error: (iss) => `must be an HTTP status from 200 to 599, got ${shown(iss.input)}` })
    .min(200, { error: (iss) => `must be an HTTP status from 200 to 599, got ${shown(iss.input)}` })
    .max(599, { error: (iss) => `must be an HTTP status from 200 to 599, got ${shown(iss.input)}` }),
  body: z
    .string()
    .refine((b) => Buffer.byteLength(b) <= DIRECT_RESPONSE_BODY_MAX, {
      error: (iss) => `must be at most ${DIRECT_RESPONSE_BODY_MAX} bytes (Envoy's limit), got ${Buffer.byteLength(String(iss.input))}`,
    })
    .optional(),
});

/** Istio's RegexRewrite: every match of `match` in the path becomes `rewrite`, whose `\1`…`\9` name groups (RE2's syntax). */
const uriRegexRewriteSchema = z
  .strictObject({ match: z.string().min(1), rewrite: z.string() })
  .superRefine((r, ctx) => {
    const problem = regexProblem(r.match);
    if (problem !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['match'], message: problem });
      return;
    }
    // How many groups the pattern has: an alternative that matches the empty string reports them all.
    const groups = new RegExp(`${r.match}|`).exec('')!.length - 1;
    for (const m of r.rewrite.matchAll(/\\(\d)/g)) {
      if (Number(m[1]) > groups) {
        ctx.addIssue({
          code: 'custom',
          path: ['rewrite'],
          message: `refers to group \\${m[1]}, but match has ${groups === 0 ? 'no groups' : `only ${groups}`}`,
        });
      }
    }
  });

const rewriteSchema = z
  .strictObject({
    /** Replaces the matched uri prefix, or the whole path for other matches. */
    uri: uriPath.optional(),
    uriRegexRewrite: uriRegexRewriteSchema.optional(),
    authority: authority.optional(),
  })
  .superRefine((r, ctx) => {
    if (r.uri === undefined && r.uriRegexRewrite === undefined && r.authority === undefined) {
      ctx.addIssue({ code: 'custom', message: 'set at least one of uri, uriRegexRewrite, authority' });
    }
    if (r.uri !== undefined && r.uriRegexRewrite !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['uriRegexRewrite'], message: 'set one of uri, uriRegexRewrite; both rewrite the path' });
    }
  });

const STATUS_RULE = (iss: { input: unknown }) => `must be an HTTP status from 200 to 599, got ${shown(iss.input)}`;

/** The statuses an abort may carry, by name: all but OK (code 0), so a name's index + 1 is its code. */
const ABORT_GRPC_STATUSES = GRPC_STATUS_NAMES.slice(1) as unknown as readonly [string, ...string[]];

const GRPC_STATUS_RULE = (iss: { input: unknown }) =>
  `must be a gRPC status other than OK: a name in capitals (${ABORT_GRPC_STATUSES.join(', ')}) or its code from 1 to 16, got ${shown(iss.input)}`;

/** A gRPC status by name (Istio's form, `UNAVAILABLE`) or code (`14`), as its code. */
const grpcStatus = z.union(
  [
    z.number().int({ error: GRPC_STATUS_RULE }).min(1, { error: GRPC_STATUS_RULE }).max(16, { error: GRPC_STATUS_RULE }),
    z.enum(ABORT_GRPC_STATUSES, { error: GRPC_STATUS_RULE }).transform((name) => ABORT_GRPC_STATUSES.indexOf(name) + 1),
  ],
  { error: GRPC_STATUS_RULE },
);

const faultSchema = z
  .strictObject({
    delay: z.strictObject({ percentage, fixedDelay: duration }).optional(),
    abort: z
      .strictObject({
        percentage,
        httpStatus: z
          .number()
          .int({ error: STATUS_RULE })
          .min(200, { error: STATUS_RULE })
          .max(599, { error: STATUS_RULE })
          .optional(),
        /** Abort as a gRPC server would: HTTP 200 with this grpc-status, as Envoy's fault filter answers. */
        grpcStatus: grpcStatus.optional(),
      })
      .superRefine((a, ctx) => {
        if ((a.httpStatus === undefined) === (a.grpcStatus === undefined)) {
          ctx.addIssue({
            code: 'custom',
            message: `set exactly one of httpStatus, grpcStatus; got ${a.httpStatus === undefined ? 'none' : 'both'}`,
          });
        }
      })
      .optional(),
  })
  .superRefine((f, ctx) => {
    if (f.delay === undefined && f.abort === undefined) {
      ctx.addIssue({ code: 'custom', message: 'set delay, abort or both' });
    }
  });

/** The route schema with the lead's retries, hedging and rateLimit schemas in place. */
export function makeRouteSchema<R extends z.ZodType, H extends z.ZodType, L extends z.ZodType>(
  extra: RouteSchemaExtras<R, H, L>,
) {
  return z
    .strictObject({
      /** For messages and metrics; unique among a service's routes. */
      name: z.string().min(1).optional(),
      /** OR of entries, each an AND of its conditions; absent matches every request. */
      match: z.array(matchEntrySchema).optional(),
      route: destinations.optional(),
      redirect: redirectSchema.optional(),
      /** Answer with this status (and body) without sending the request anywhere. */
      directResponse: directResponseSchema.optional(),
      rewrite: rewriteSchema.optional(),
      timeout: duration.optional(),
      fault: faultSchema.optional(),
      mirror: destinationSchema.optional(),
      /** Defaults to 100 when mirror is set (applied when the table is compiled). */
      mirrorPercentage: percentage.optional(),
      /** Several mirrors, each with its own share (100 when unset); instead of mirror and mirrorPercentage. */
      mirrors: z.array(z.strictObject({ destination: destinationSchema, percentage: percentage.optional() })).min(1, { error: 'must list at least one mirror' }).optional(),
      headers: headersSchema.optional(),
      retries: extra.retries.optional(),
      hedging: extra.hedging.optional(),
      rateLimit: extra.rateLimit.optional(),
    })
    .superRefine((r, ctx) => {
      const actions = (['route', 'redirect', 'directResponse'] as const).filter((a) => r[a] !== undefined);
      if (actions.length > 1) {
        ctx.addIssue({
          code: 'custom',
          path: [actions[1]!],
          message: `set one of route (send the request on), redirect or directResponse (answer it); got ${actions.join(' and ')}`,
        });
      } else if (actions.length === 0) {
        ctx.addIssue({
          code: 'custom',
          message: 'needs one of route (weighted destinations), redirect or directResponse',
        });
      }
      const answer = r.redirect !== undefined ? 'a redirect' : r.directResponse !== undefined ? 'a direct response' : undefined;
      if (answer !== undefined) {
        // Answered before anything that would send the request on.
        for (const field of ['rewrite', 'mirror', 'mirrors', 'fault', 'timeout', 'retries', 'hedging', 'headers', 'rateLimit'] as const) {
          if (r[field] === undefined) continue;
          ctx.addIssue({
            code: 'custom',
            path: [field],
            message: `${answer} answers the request itself, so ${field} has no effect; remove one of them`,
          });
        }
      }
      if (r.mirrors !== undefined && (r.mirror !== undefined || r.mirrorPercentage !== undefined)) {
        ctx.addIssue({
          code: 'custom',
          path: ['mirrors'],
          message: 'set mirror (one copy, with mirrorPercentage) or mirrors (several, each with its percentage), not both',
        });
      } else if (r.mirrorPercentage !== undefined && r.mirror === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['mirrorPercentage'],
          message: 'needs mirror (the destination to copy requests to)',
        });
      }
    });
}

/** A service's routes, in match order; names must be unique among them. */
export function makeRoutesSchema<R extends z.ZodType, H extends z.ZodType, L extends z.ZodType>(
  extra: RouteSchemaExtras<R, H, L>,
) {
  return z.array(makeRouteSchema(extra)).superRefine((routes, ctx) => {
    const seen = new Map<string, number>();
    routes.forEach((r, i) => {
      if (r.name === undefined) return;
      const first = seen.get(r.name);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [i, 'name'],
          message: `${JSON.stringify(r.name)} is already the name of routes[${first}]; route names must be unique`,
        });
      } else seen.set(r.name, i);
    });
  });
}

const PASSTHROUGH = { retries: z.unknown(), hedging: z.unknown(), rateLimit: z.unknown() };

export const routeSchema = makeRouteSchema(PASSTHROUGH);
export const routesSchema = makeRoutesSchema(PASSTHROUGH);

export type RouteConfig = z.output<typeof routeSchema>;
export type RouteConfigInput = z.input<typeof routeSchema>;
export type RouteDestination = NonNullable<RouteConfig['route']>[number];
export type { HeaderOperations };

interface MirrorFields {
  readonly mirror?: { readonly service?: string | undefined; readonly subset?: string | undefined } | undefined;
  readonly mirrorPercentage?: number | undefined;
  readonly mirrors?: readonly { readonly destination: { readonly service?: string | undefined; readonly subset?: string | undefined }; readonly percentage?: number | undefined }[] | undefined;
}

/** A route's mirrors as one list, whichever form it was written in (`mirror` with `mirrorPercentage`, or `mirrors`). */
export function routeMirrors(route: MirrorFields): NonNullable<MirrorFields['mirrors']> {
  if (route.mirrors !== undefined) return route.mirrors;
  return route.mirror === undefined ? [] : [{ destination: route.mirror, percentage: route.mirrorPercentage }];
}
