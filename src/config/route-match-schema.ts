/**
 * The conditions a route matches on (Istio's HTTPMatchRequest and
 * StringMatch) and the header mutations it applies (Istio's Headers), as zod
 * schemas. Split from route-schema.ts because these are the leaves: string
 * matchers, header names and values, each with a message that reads well
 * after a path such as `services.reviews.routes[1].match[0].uri: `.
 */
import { z } from 'zod';
import { dnsLabel, labelsSchema } from './label-schema.js';

/** RFC 9110 `token`: what a header (or query parameter) name may contain. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const TOKEN_RULE = "letters, digits and !#$%&'*+-.^_`|~ only";

/** The headers only rewrite.authority may change, so the authority has one source. */
const AUTHORITY_HEADERS = new Set(['host', ':authority']);

const PATH_KINDS = ['exact', 'prefix', 'regex'] as const;
const VALUE_KINDS = ['exact', 'prefix', 'regex', 'present', 'absent'] as const;

/**
 * Why `pattern` is not a usable regex, or undefined when it is. Checked here,
 * at config time, so a bad pattern is a config error rather than a failure
 * when the route table is compiled.
 */
export function regexProblem(pattern: string): string | undefined {
  try {
    new RegExp(pattern);
    return undefined;
  } catch (err) {
    const reason = (err as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '');
    // RE2 (Istio, Envoy) spells named groups (?P<name>...); JavaScript does not.
    const hint = pattern.includes('(?P<') ? '; write named groups as (?<name>...)' : '';
    return `${JSON.stringify(pattern)} is not a valid regular expression (${reason})${hint}`;
  }
}

type MatchFields = Partial<Record<(typeof VALUE_KINDS)[number], unknown>>;

function checkOneKind(m: MatchFields, kinds: readonly (keyof MatchFields)[], ctx: z.core.$RefinementCtx): void {
  const set = kinds.filter((k) => m[k] !== undefined);
  if (set.length !== 1) {
    ctx.addIssue({
      code: 'custom',
      message: `set exactly one of ${kinds.join(', ')}; got ${set.length === 0 ? 'none' : set.join(' and ')}`,
    });
  }
  if (typeof m.regex === 'string') {
    const problem = regexProblem(m.regex);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', path: ['regex'], message: problem });
  }
}

/** Istio's StringMatch, for values that are always there (paths, methods). */
const stringMatchSchema = z
  .strictObject({
    exact: z.string().optional(),
    prefix: z.string().optional(),
    regex: z.string().optional(),
  })
  .superRefine((m, ctx) => checkOneKind(m, PATH_KINDS, ctx));

/**
 * A request path matcher. Paths on the wire start with "/", so an exact or
 * prefix value without one could never match: that is a typo, not a route.
 */
export const pathMatchSchema = stringMatchSchema.superRefine((m, ctx) => {
  for (const kind of ['exact', 'prefix'] as const) {
    const value = m[kind];
    if (value !== undefined && !value.startsWith('/')) {
      ctx.addIssue({ code: 'custom', path: [kind], message: `must start with "/", got ${JSON.stringify(value)}` });
    }
  }
});

/** A header or query parameter matcher: a StringMatch, plus presence and absence. */
export const valueMatchSchema = z
  .strictObject({
    exact: z.string().optional(),
    prefix: z.string().optional(),
    regex: z.string().optional(),
    present: z.literal(true, { error: 'must be true to match when it is present (or leave it out)' }).optional(),
    absent: z.literal(true, { error: 'must be true to match when it is absent (or leave it out)' }).optional(),
  })
  .superRefine((m, ctx) => checkOneKind(m, VALUE_KINDS, ctx));

/**
 * Methods are upper case on the wire; exact and prefix values are upper-cased
 * here so `get` does not silently never match. A plain string means exact.
 */
export const methodMatchSchema = z.union([
  z.string().transform((exact) => ({ exact: exact.toUpperCase() })),
  stringMatchSchema.transform((m): StringMatch => {
    if (m.regex !== undefined) return { regex: m.regex };
    if (m.prefix !== undefined) return { prefix: m.prefix.toUpperCase() };
    return { exact: (m.exact ?? '').toUpperCase() };
  }),
]);

export type StringMatch = z.output<typeof stringMatchSchema>;
export type PathMatch = z.output<typeof pathMatchSchema>;
export type ValueMatch = z.output<typeof valueMatchSchema>;

function nameProblem(name: string, forbidAuthority: boolean): string | undefined {
  if (forbidAuthority && AUTHORITY_HEADERS.has(name.toLowerCase())) {
    return `${JSON.stringify(name)} cannot be changed through headers; set rewrite.authority instead`;
  }
  if (!TOKEN.test(name)) return `${JSON.stringify(name)} is not a valid header name (${TOKEN_RULE})`;
  return undefined;
}

/** Issues for bad names, and for names that collide once lowercased. */
function checkNames(
  names: readonly string[],
  pathOf: (i: number) => PropertyKey,
  forbidAuthority: boolean,
  ctx: z.core.$RefinementCtx,
): void {
  const seen = new Map<string, string>();
  names.forEach((name, i) => {
    const problem = nameProblem(name, forbidAuthority);
    if (problem !== undefined) {
      ctx.addIssue({ code: 'custom', path: [pathOf(i)], message: problem });
      return;
    }
    const lower = name.toLowerCase();
    const earlier = seen.get(lower);
    if (earlier !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: [pathOf(i)],
        message: `${JSON.stringify(earlier)} and ${JSON.stringify(name)} name the same header (names ignore case); keep one`,
      });
    }
    seen.set(lower, name);
  });
}

function lowerKeys<T>(record: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [k, v] of Object.entries(record)) out[k.toLowerCase()] = v;
  return out;
}

/** `headers:` in a match entry; names are lowercased, as RouteRequest.header expects. */
export const headerMatchesSchema = z
  .record(z.string(), valueMatchSchema)
  .superRefine((rec, ctx) => {
    const names = Object.keys(rec);
    checkNames(names, (i) => names[i]!, false, ctx);
  })
  .transform(lowerKeys);

/** `queryParams:` in a match entry. Names are case-sensitive, as in a URL. */
export const queryMatchesSchema = z.record(z.string(), valueMatchSchema).superRefine((rec, ctx) => {
  for (const name of Object.keys(rec)) {
    if (name === '') ctx.addIssue({ code: 'custom', path: [name], message: 'query parameter names must not be empty' });
  }
});

const headerValue = z.string().refine((v) => !/[\r\n\0]/.test(v), {
  error: 'header values must not contain CR, LF or NUL (they would split the header)',
});

function headerOperations(forbidAuthority: boolean) {
  const values = z
    .record(z.string(), headerValue)
    .superRefine((rec, ctx) => {
      const names = Object.keys(rec);
      checkNames(names, (i) => names[i]!, forbidAuthority, ctx);
    })
    .transform(lowerKeys);
  return z.strictObject({
    set: values.optional(),
    add: values.optional(),
    remove: z
      .array(z.string())
      .superRefine((names, ctx) => checkNames(names, (i) => i, forbidAuthority, ctx))
      .transform((names) => names.map((n) => n.toLowerCase()))
      .optional(),
  });
}

/** Istio's Headers: changes to the request (before it is sent) and to the response. */
export const headersSchema = z.strictObject({
  request: headerOperations(true).optional(),
  response: headerOperations(false).optional(),
});

export type HeaderOperations = NonNullable<z.output<typeof headersSchema>['request']>;
export type HeadersConfig = z.output<typeof headersSchema>;

export const matchEntrySchema = z.strictObject({
  uri: pathMatchSchema.optional(),
  method: methodMatchSchema.optional(),
  headers: headerMatchesSchema.optional(),
  queryParams: queryMatchesSchema.optional(),
  /** The request's authority (`host[:port]`, as the Host header or the URL carries it), case-sensitive as in Istio. */
  authority: stringMatchSchema.optional(),
  ignoreUriCase: z.boolean().optional(),
  /**
   * Istio's source conditions: the entry applies only in a workload with
   * all these labels (`mesh.labels`), or in this namespace
   * (`mesh.namespace`). Settled once per config, never per request
   * (routing/route-source.ts).
   */
  sourceLabels: labelsSchema.optional(),
  sourceNamespace: dnsLabel('namespace name').optional(),
});

export type MatchEntry = z.output<typeof matchEntrySchema>;
