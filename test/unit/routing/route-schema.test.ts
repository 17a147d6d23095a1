/**
 * The `routes` schema: what valid routes turn into, and the exact words a
 * user sees for each mistake, formatted by the same helper validateConfig
 * uses, under a `routes` prefix as they will appear inside a service.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { ConfigIssue } from '../../../src/config/config-error.js';
import { makeRouteSchema, routeSchema, routesSchema } from '../../../src/config/route-schema.js';
import { toConfigIssues } from '../../../src/config/validate.js';

function issues(raw: unknown): ConfigIssue[] {
  const result = routesSchema.safeParse(raw);
  if (result.success) return [];
  return toConfigIssues(result.error.issues, raw).map((i) => ({ path: `routes${i.path}`, message: i.message }));
}

const TO_SELF = [{ destination: {} }];
const one = (path: string, message: string): ConfigIssue[] => [{ path, message }];
const matching = (match: unknown) => [{ match: [match], route: TO_SELF }];

interface Case {
  readonly name: string;
  readonly input: unknown;
  readonly issues: readonly ConfigIssue[];
}

const M0 = 'routes[0].match[0]';

const CASES: readonly Case[] = [
  {
    name: 'two kinds in one uri match',
    input: matching({ uri: { exact: '/a', prefix: '/b' } }),
    issues: one(`${M0}.uri`, 'set exactly one of exact, prefix, regex; got exact and prefix'),
  },
  {
    name: 'an empty uri match',
    input: matching({ uri: {} }),
    issues: one(`${M0}.uri`, 'set exactly one of exact, prefix, regex; got none'),
  },
  {
    name: 'present on a uri (paths are always present)',
    input: matching({ uri: { present: true } }),
    issues: [
      { path: `${M0}.uri.present`, message: 'unknown field' },
      { path: `${M0}.uri`, message: 'set exactly one of exact, prefix, regex; got none' },
    ],
  },
  {
    name: 'a uri prefix without the leading slash',
    input: matching({ uri: { prefix: 'api/' } }),
    issues: one(`${M0}.uri.prefix`, 'must start with "/", got "api/"'),
  },
  {
    name: 'a bad uri regex',
    input: matching({ uri: { regex: '/u/([0-9]+' } }),
    issues: one(`${M0}.uri.regex`, '"/u/([0-9]+" is not a valid regular expression (Unterminated group)'),
  },
  {
    name: 'an RE2 named group',
    input: matching({ uri: { regex: '/u/(?P<id>[0-9]+)' } }),
    issues: one(
      `${M0}.uri.regex`,
      '"/u/(?P<id>[0-9]+)" is not a valid regular expression (Invalid group); write named groups as (?<name>...)',
    ),
  },
  {
    name: 'a header match with exact and present',
    input: matching({ headers: { 'x-user': { exact: 'jason', present: true } } }),
    issues: one(
      `${M0}.headers.x-user`,
      'set exactly one of exact, prefix, regex, present, absent; got exact and present',
    ),
  },
  {
    name: 'a header match with nothing',
    input: matching({ headers: { 'x-user': {} } }),
    issues: one(`${M0}.headers.x-user`, 'set exactly one of exact, prefix, regex, present, absent; got none'),
  },
  {
    name: 'present: false',
    input: matching({ headers: { 'x-user': { present: false } } }),
    issues: one(`${M0}.headers.x-user.present`, 'must be true to match when it is present (or leave it out)'),
  },
  {
    name: 'a header name with a space',
    input: matching({ headers: { 'x user': { exact: 'a' } } }),
    issues: one(
      `${M0}.headers["x user"]`,
      '"x user" is not a valid header name (letters, digits and !#$%&\'*+-.^_`|~ only)',
    ),
  },
  {
    name: 'two header names that differ only in case',
    input: matching({ headers: { 'X-User': { exact: 'a' }, 'x-user': { exact: 'b' } } }),
    issues: one(`${M0}.headers.x-user`, '"X-User" and "x-user" name the same header (names ignore case); keep one'),
  },
  {
    name: 'a bad query parameter regex',
    input: matching({ queryParams: { debug: { regex: '[' } } }),
    issues: one(
      `${M0}.queryParams.debug.regex`,
      '"[" is not a valid regular expression (Unterminated character class)',
    ),
  },
  {
    name: 'a method map with two kinds',
    input: matching({ method: { exact: 'GET', regex: 'P.*' } }),
    issues: one(`${M0}.method`, 'set exactly one of exact, prefix, regex; got exact and regex'),
  },
  {
    name: 'a misspelt match field',
    input: matching({ urI: { exact: '/a' } }),
    issues: one(`${M0}.urI`, 'unknown field'),
  },
  {
    name: 'neither route nor redirect',
    input: [{ match: [{ uri: { prefix: '/' } }] }],
    issues: one('routes[0]', 'needs one of route (weighted destinations), redirect or directResponse'),
  },
  {
    name: 'both route and redirect',
    input: [{ route: TO_SELF, redirect: { uri: '/b' } }],
    issues: one('routes[0].redirect', 'set one of route (send the request on), redirect or directResponse (answer it); got route and redirect'),
  },
  {
    name: 'an empty route list',
    input: [{ route: [] }],
    issues: one('routes[0].route', 'must have at least 1 item'),
  },
  {
    name: 'weights that add up to 0',
    input: [{ route: [{ destination: { subset: 'v1' }, weight: 0 }, { destination: { subset: 'v2' } }] }],
    issues: one(
      'routes[0].route',
      'weights add up to 0; give at least one destination a weight above 0 (with several destinations, a missing weight counts as 0)',
    ),
  },
  {
    name: 'a fractional weight',
    input: [{ route: [{ destination: {}, weight: 1.5 }] }],
    issues: one('routes[0].route[0].weight', 'must be a whole number from 0 to 100000, got 1.5'),
  },
  {
    name: 'a weight over the maximum',
    input: [{ route: [{ destination: {}, weight: 100_001 }] }],
    issues: one('routes[0].route[0].weight', 'must be a whole number from 0 to 100000, got 100001'),
  },
  {
    name: 'setting Host through headers',
    input: [{ route: TO_SELF, headers: { request: { set: { Host: 'other' } } } }],
    issues: one(
      'routes[0].headers.request.set.Host',
      '"Host" cannot be changed through headers; set rewrite.authority instead',
    ),
  },
  {
    name: 'removing :authority on a destination',
    input: [{ route: [{ destination: {}, headers: { request: { remove: [':authority'] } } }] }],
    issues: one(
      'routes[0].route[0].headers.request.remove[0]',
      '":authority" cannot be changed through headers; set rewrite.authority instead',
    ),
  },
  {
    name: 'a header value with a line break',
    input: [{ route: TO_SELF, headers: { response: { add: { 'x-a': 'one\r\nx-b: two' } } } }],
    issues: one(
      'routes[0].headers.response.add.x-a',
      'header values must not contain CR, LF or NUL (they would split the header)',
    ),
  },
  {
    name: 'a redirect that changes nothing',
    input: [{ redirect: { redirectCode: 302 } }],
    issues: one('routes[0].redirect', 'set at least one of uri, authority, scheme'),
  },
  {
    name: 'a redirect code that is not a redirect',
    input: [{ redirect: { uri: '/b', redirectCode: 200 } }],
    issues: one('routes[0].redirect.redirectCode', 'must be one of 301, 302, 303, 307, 308, got 200'),
  },
  {
    name: 'a redirect scheme that is not http or https',
    input: [{ redirect: { scheme: 'ftp' } }],
    issues: one('routes[0].redirect.scheme', 'must be one of "http", "https", got "ftp"'),
  },
  {
    name: 'a redirect together with a rewrite',
    input: [{ redirect: { uri: '/b' }, rewrite: { uri: '/c' } }],
    issues: one(
      'routes[0].rewrite',
      'a redirect answers the request itself, so rewrite has no effect; remove one of them',
    ),
  },
  {
    name: 'a rewrite uri without the leading slash',
    input: [{ route: TO_SELF, rewrite: { uri: 'v2/' } }],
    issues: one('routes[0].rewrite.uri', 'must start with "/", got "v2/"'),
  },
  {
    name: 'a rewrite authority that is not host:port',
    input: [{ route: TO_SELF, rewrite: { authority: 'a:b:c' } }],
    issues: one('routes[0].rewrite.authority', '"a:b:c" is not host:port (write IPv6 addresses as [addr]:port)'),
  },
  {
    name: 'a timeout that is not a duration',
    input: [{ route: TO_SELF, timeout: 'soon' }],
    issues: one(
      'routes[0].timeout',
      '"soon" is not a duration; write milliseconds as a number or a string like "250ms", "5s", "1m30s"',
    ),
  },
  {
    name: 'a fault with neither delay nor abort',
    input: [{ route: TO_SELF, fault: {} }],
    issues: one('routes[0].fault', 'set delay, abort or both'),
  },
  {
    name: 'a delay over 100 percent, in Istio form',
    input: [{ route: TO_SELF, fault: { delay: { percentage: { value: 150 }, fixedDelay: '5s' } } }],
    issues: one('routes[0].fault.delay.percentage.value', 'must be a percentage from 0 to 100, got 150'),
  },
  {
    name: 'a delay without a percentage',
    input: [{ route: TO_SELF, fault: { delay: { fixedDelay: '5s' } } }],
    issues: one(
      'routes[0].fault.delay.percentage',
      'is required (a percentage from 0 to 100, or { value: percentage })',
    ),
  },
  {
    name: 'an abort percentage that is a string',
    input: [{ route: TO_SELF, fault: { abort: { percentage: '5%', httpStatus: 503 } } }],
    issues: one('routes[0].fault.abort.percentage', 'must be a number or a map, got string "5%"'),
  },
  {
    name: 'an abort status outside 200..599',
    input: [{ route: TO_SELF, fault: { abort: { percentage: 5, httpStatus: 700 } } }],
    issues: one('routes[0].fault.abort.httpStatus', 'must be an HTTP status from 200 to 599, got 700'),
  },
  {
    name: 'an abort with both an HTTP and a gRPC status',
    input: [{ route: TO_SELF, fault: { abort: { percentage: 5, httpStatus: 503, grpcStatus: 'UNAVAILABLE' } } }],
    issues: one('routes[0].fault.abort', 'set exactly one of httpStatus, grpcStatus; got both'),
  },
  {
    name: 'an abort with no status',
    input: [{ route: TO_SELF, fault: { abort: { percentage: 5 } } }],
    issues: one('routes[0].fault.abort', 'set exactly one of httpStatus, grpcStatus; got none'),
  },
  {
    name: 'an abort with a gRPC status that is no status (lowercase, OK, out of range)',
    input: [
      { route: TO_SELF, fault: { abort: { percentage: 5, grpcStatus: 'unavailable' } } },
      { route: TO_SELF, fault: { abort: { percentage: 5, grpcStatus: 0 } } },
      { route: TO_SELF, fault: { abort: { percentage: 5, grpcStatus: 17 } } },
    ],
    issues: [0, 1, 2].map((i) => ({
      path: `routes[${i}].fault.abort.grpcStatus`,
      message: expect.stringContaining('must be a gRPC status other than OK: a name in capitals (CANCELLED, UNKNOWN,'),
    })),
  },
  {
    name: 'a direct response beside a route, with a status out of range and a body over 4 KiB, and a timeout',
    input: [
      { route: TO_SELF, directResponse: { status: 503 } },
      { directResponse: { status: 99, body: 'x'.repeat(4097) }, timeout: '1s' },
    ],
    issues: [
      { path: 'routes[0].directResponse', message: 'set one of route (send the request on), redirect or directResponse (answer it); got route and directResponse' },
      { path: 'routes[1].directResponse.status', message: 'must be an HTTP status from 200 to 599, got 99' },
      { path: 'routes[1].directResponse.body', message: "must be at most 4096 bytes (Envoy's limit), got 4097" },
      { path: 'routes[1].timeout', message: 'a direct response answers the request itself, so timeout has no effect; remove one of them' },
    ],
  },
  {
    name: 'a regex rewrite with a bad pattern, one naming a group it lacks, and one beside uri',
    input: [
      { route: TO_SELF, rewrite: { uriRegexRewrite: { match: '(', rewrite: '/x' } } },
      { route: TO_SELF, rewrite: { uriRegexRewrite: { match: '^/a/(.*)$', rewrite: '/b/\\1/\\2' } } },
      { route: TO_SELF, rewrite: { uri: '/x', uriRegexRewrite: { match: '.*', rewrite: '/y' } } },
    ],
    issues: [
      { path: 'routes[0].rewrite.uriRegexRewrite.match', message: expect.stringContaining('"(" is not a valid regular expression') },
      { path: 'routes[1].rewrite.uriRegexRewrite.rewrite', message: 'refers to group \\2, but match has only 1' },
      { path: 'routes[2].rewrite.uriRegexRewrite', message: 'set one of uri, uriRegexRewrite; both rewrite the path' },
    ],
  },
  {
    name: 'a mirror percentage without a mirror',
    input: [{ route: TO_SELF, mirrorPercentage: 10 }],
    issues: one('routes[0].mirrorPercentage', 'needs mirror (the destination to copy requests to)'),
  },
  {
    name: 'two routes with one name',
    input: [
      { name: 'canary', route: TO_SELF },
      { name: 'other', route: TO_SELF },
      { name: 'canary', route: TO_SELF },
    ],
    issues: one('routes[2].name', '"canary" is already the name of routes[0]; route names must be unique'),
  },
];

describe('routes schema errors', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    expect(issues(c.input)).toEqual(c.issues);
  });
});

describe('routes schema output', () => {
  it("reads an abort's gRPC status by Istio's name or by code", () => {
    const routes = routesSchema.parse([
      { route: TO_SELF, fault: { abort: { percentage: 5, grpcStatus: 'UNAVAILABLE' } } },
      { route: TO_SELF, fault: { abort: { percentage: 5, grpcStatus: 'UNAUTHENTICATED' } } },
      { route: TO_SELF, fault: { abort: { percentage: 5, grpcStatus: 8 } } },
    ]);
    expect(routes.map((r) => r.fault?.abort?.grpcStatus)).toEqual([14, 16, 8]);
  });

  it('normalises the compact forms', () => {
    const [route] = routesSchema.parse([
      {
        name: 'jason-to-v2',
        match: [
          {
            uri: { prefix: '/api/' },
            method: 'get',
            headers: { 'X-User': { exact: 'jason' }, 'X-Debug': { present: true } },
            queryParams: { debug: { exact: '1' } },
            ignoreUriCase: true,
          },
        ],
        route: [{ destination: { service: 'reviews', subset: 'v2' } }],
        timeout: '2s',
        fault: { delay: { percentage: { value: 10 }, fixedDelay: '5s' }, abort: { percentage: 5, httpStatus: 503 } },
        mirror: { subset: 'v3' },
        headers: { request: { set: { 'X-A': 'b' }, remove: ['X-Gone'] } },
        retries: { attempts: 3 },
      },
    ]);
    expect(route).toEqual({
      name: 'jason-to-v2',
      match: [
        {
          uri: { prefix: '/api/' },
          method: { exact: 'GET' },
          headers: { 'x-user': { exact: 'jason' }, 'x-debug': { present: true } },
          queryParams: { debug: { exact: '1' } },
          ignoreUriCase: true,
        },
      ],
      route: [{ destination: { service: 'reviews', subset: 'v2' }, weight: 100 }],
      timeout: 2000,
      fault: { delay: { percentage: 10, fixedDelay: 5000 }, abort: { percentage: 5, httpStatus: 503 } },
      mirror: { subset: 'v3' },
      headers: { request: { set: { 'x-a': 'b' }, remove: ['x-gone'] } },
      retries: { attempts: 3 },
    });
  });

  it('counts a missing weight as 0 when there are several destinations', () => {
    const [route] = routesSchema.parse([
      { route: [{ destination: { subset: 'v1' }, weight: 90 }, { destination: { subset: 'v2' } }] },
    ]);
    expect(route?.route?.map((d) => d.weight)).toEqual([90, 0]);
  });

  it('defaults the redirect code to 301', () => {
    expect(routeSchema.parse({ redirect: { scheme: 'https' } }).redirect).toEqual({
      scheme: 'https',
      redirectCode: 301,
    });
  });

  it('takes the lead schemas for retries, hedging and rate limits', () => {
    const schema = makeRouteSchema({
      retries: z.strictObject({ attempts: z.number().int() }),
      hedging: z.unknown(),
      rateLimit: z.unknown(),
    });
    expect(schema.parse({ route: TO_SELF, retries: { attempts: 2 } }).retries).toEqual({ attempts: 2 });
    const bad = schema.safeParse({ route: TO_SELF, retries: { attempts: 1.5 } });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(['retries', 'attempts']);
  });
});
