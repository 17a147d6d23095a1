/**
 * Every way a config can be wrong, and the exact words a user sees for it.
 * Each row is one invalid config; the assertion is on the full list of
 * issues (path and message), so a reworded or misplaced message fails here.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, type ConfigIssue } from '../../../src/config/config-error.js';
import { validateConfig } from '../../../src/config/validate.js';
import { isMeshError } from '../../../src/errors.js';

const DURATION_HINT = 'write milliseconds as a number or a string like "250ms", "5s", "1m30s"';
const DNS_LABEL_RULE =
  'DNS label: lowercase letters, digits and "-", starting and ending with a letter or digit, at most 63 characters';
const POLICIES = '"peak-ewma", "least-request", "round-robin", "random", "ring-hash", "maglev"';
const CUSTOM =
  'or a custom policy registered in code under a qualified name: "<prefix>/<name>" (lowercase letters, digits, "-" and ".", each part starting and ending with a letter or digit), such as "example.com/fastest", or gRPC\'s dotted form (identifiers of letters, digits and "_", not starting with a digit, joined by at least one "."), such as "myorg.FewestInFlight"';
const HASH_KEYS = 'header, cookie, sourceIp, queryParameter';

/** A config with one service, `reviews`. */
function svc(body: Record<string, unknown>): unknown {
  return { services: { reviews: body } };
}

/** A config whose one service has one endpoint entry. */
function ep(entry: unknown): unknown {
  return svc({ endpoints: [entry] });
}

/** A config whose one service has a static endpoint and this load balancer. */
function lb(loadBalancer: unknown): unknown {
  return svc({ endpoints: ['10.0.0.1:9080'], loadBalancer });
}

const SVC = 'services.reviews';
const EP0 = 'services.reviews.endpoints[0]';
const LB = 'services.reviews.loadBalancer';

interface Case {
  readonly name: string;
  readonly input: unknown;
  readonly issues: readonly ConfigIssue[];
}

const one = (path: string, message: string): readonly ConfigIssue[] => [{ path, message }];

const CASES: readonly Case[] = [
  // ── ports ──────────────────────────────────────────────────────────────
  {
    name: 'service port 0',
    input: svc({ port: 0, endpoints: ['a'] }),
    issues: one(`${SVC}.port`, 'must be a port from 1 to 65535, got 0'),
  },
  {
    name: 'service port 65536',
    input: svc({ port: 65536, endpoints: ['a'] }),
    issues: one(`${SVC}.port`, 'must be a port from 1 to 65535, got 65536'),
  },
  {
    name: 'service port "abc"',
    input: svc({ port: 'abc', endpoints: ['a'] }),
    issues: one(`${SVC}.port`, 'must be a number, got string "abc"'),
  },
  {
    name: 'service port 1.5',
    input: svc({ port: 1.5, endpoints: ['a'] }),
    issues: one(`${SVC}.port`, 'must be a port from 1 to 65535, got 1.5'),
  },
  {
    name: 'endpoint map with port 0',
    input: ep({ address: '10.0.0.1', port: 0 }),
    issues: one(`${EP0}.port`, 'must be a port from 1 to 65535, got 0'),
  },
  {
    name: 'endpoint string with port 0',
    input: ep('10.0.0.1:0'),
    issues: one(EP0, '"10.0.0.1:0" has port "0"; a port is a number from 1 to 65535'),
  },
  {
    name: 'endpoint string with port 65536',
    input: ep('reviews-1:65536'),
    issues: one(EP0, '"reviews-1:65536" has port "65536"; a port is a number from 1 to 65535'),
  },
  {
    name: 'endpoint string with port "abc"',
    input: ep('reviews-1:abc'),
    issues: one(EP0, '"reviews-1:abc" has port "abc"; a port is a number from 1 to 65535'),
  },

  // ── malformed endpoint strings ───────────────────────────────────────────
  {
    name: 'unclosed IPv6 bracket',
    input: ep('[::1:8080'),
    issues: one(EP0, '"[::1:8080" has an unclosed "["'),
  },
  {
    name: 'host with a colon and no port',
    input: ep('reviews-1:'),
    issues: one(EP0, '"reviews-1:" has nothing after ":"; write "host:port", or just "host" to use the service port'),
  },
  {
    name: 'a:b:c',
    input: ep('a:b:c'),
    issues: one(EP0, '"a:b:c" is not host:port (write IPv6 addresses as [addr]:port)'),
  },
  {
    name: 'empty endpoint string',
    input: ep(''),
    issues: one(EP0, '"" is empty; write "host:port" or "[ipv6]:port"'),
  },
  {
    name: 'IPv4 address in brackets',
    input: ep('[10.0.0.1]:80'),
    issues: one(EP0, '"[10.0.0.1]:80" has "10.0.0.1" in brackets, which is not an IPv6 address (only IPv6 goes in [])'),
  },
  {
    name: 'text after the closing bracket',
    input: ep('[::1]8080'),
    issues: one(EP0, '"[::1]8080" has text after "]" that is not ":port"'),
  },
  {
    name: 'host with a space',
    input: ep('reviews 1:80'),
    issues: one(EP0, '"reviews 1:80" has host "reviews 1", which is not an IP address or DNS name'),
  },
  {
    name: 'endpoint that is a number',
    input: ep(9080),
    issues: one(EP0, 'must be a string or a map, got number 9080'),
  },
  {
    name: 'endpoint that is null',
    input: ep(null),
    issues: one(EP0, 'must be a string or a map, got null'),
  },

  // ── endpoint maps ───────────────────────────────────────────────────────
  {
    name: 'endpoint map with a misspelt field',
    input: ep({ address: '10.0.0.1', port: 80, wieght: 2 }),
    issues: one(`${EP0}.wieght`, 'unknown field (did you mean "weight"?)'),
  },
  {
    name: 'endpoint map with an unknown field',
    input: ep({ address: '10.0.0.1', port: 80, healthy: true }),
    issues: one(`${EP0}.healthy`, 'unknown field'),
  },
  {
    name: 'endpoint map without address',
    input: ep({ port: 80 }),
    issues: one(`${EP0}.address`, 'is required (a string)'),
  },
  {
    name: 'endpoint map with a bad address',
    input: ep({ address: 'reviews 1', port: 80 }),
    issues: one(`${EP0}.address`, '"reviews 1" is not an IP address or DNS name'),
  },
  {
    name: 'weight 0',
    input: ep({ address: '10.0.0.1', port: 80, weight: 0 }),
    issues: one(`${EP0}.weight`, 'must be at least 1, got 0'),
  },
  {
    name: 'negative weight',
    input: ep({ address: '10.0.0.1', port: 80, weight: -3 }),
    issues: one(`${EP0}.weight`, 'must be at least 1, got -3'),
  },
  {
    name: 'fractional weight',
    input: ep({ address: '10.0.0.1', port: 80, weight: 1.5 }),
    issues: one(`${EP0}.weight`, 'must be a whole number, got number 1.5'),
  },
  {
    name: 'weight above 1,000,000',
    input: ep({ address: '10.0.0.1', port: 80, weight: 1_000_001 }),
    issues: one(`${EP0}.weight`, 'must be at most 1000000, got 1000001'),
  },
  {
    name: 'weight as a string',
    input: ep({ address: '10.0.0.1', port: 80, weight: '2' }),
    issues: one(`${EP0}.weight`, 'must be a number, got string "2"'),
  },
  {
    name: 'priority -1',
    input: ep({ address: '10.0.0.1', port: 80, priority: -1 }),
    issues: one(`${EP0}.priority`, 'must be at least 0, got -1'),
  },
  {
    name: 'priority 17',
    input: ep({ address: '10.0.0.1', port: 80, priority: 17 }),
    issues: one(`${EP0}.priority`, 'must be at most 16, got 17'),
  },
  {
    name: 'label key with a space and "!"',
    input: ep({ address: '10.0.0.1', port: 80, labels: { 'bad key!': 'x' } }),
    issues: one(
      `${EP0}.labels["bad key!"]`,
      'label key "bad key!" is not a valid label name (an optional "prefix/", then up to 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit)',
    ),
  },
  {
    name: 'label key starting with "-"',
    input: ep({ address: '10.0.0.1', port: 80, labels: { '-version': 'v1' } }),
    issues: one(
      `${EP0}.labels["-version"]`,
      'label key "-version" is not a valid label name (an optional "prefix/", then up to 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit)',
    ),
  },
  {
    name: 'label value of 64 characters',
    input: ep({ address: '10.0.0.1', port: 80, labels: { version: 'v'.repeat(64) } }),
    issues: one(`${EP0}.labels.version`, 'label values must be at most 63 characters, got 64'),
  },
  {
    name: 'label value that is a number',
    input: ep({ address: '10.0.0.1', port: 80, labels: { version: 2 } }),
    issues: one(`${EP0}.labels.version`, 'must be a string, got number 2'),
  },

  // ── unknown fields at every level ──────────────────────────────────────
  {
    name: 'top level, close to "services"',
    input: { servics: {} },
    issues: one('servics', 'unknown field (did you mean "services"?)'),
  },
  {
    name: 'top level, nothing close',
    input: { routes: [] },
    issues: one('routes', 'unknown field'),
  },
  {
    name: 'mesh, close to "namespace"',
    input: { mesh: { namepsace: 'prod' } },
    issues: one('mesh.namepsace', 'unknown field (did you mean "namespace"?)'),
  },
  {
    name: 'mesh, nothing close',
    input: { mesh: { tracing: true } },
    issues: one('mesh.tracing', 'unknown field'),
  },
  {
    name: 'service, wrong case of "loadBalancer"',
    input: svc({ endpoints: ['a:1'], loadbalancer: {} }),
    issues: one(`${SVC}.loadbalancer`, 'unknown field (did you mean "loadBalancer"?)'),
  },
  {
    name: 'service, nothing close',
    input: svc({ endpoints: ['a:1'], sidecar: {} }),
    issues: one(`${SVC}.sidecar`, 'unknown field'),
  },
  {
    name: 'loadBalancer, close to "policy"',
    input: lb({ polcy: 'random' }),
    issues: one(`${LB}.polcy`, 'unknown field (did you mean "policy"?)'),
  },
  {
    name: 'mesh.loadBalancer, nothing close',
    input: { mesh: { loadBalancer: { policy: 'random', choices: 3 } } },
    issues: one('mesh.loadBalancer.choices', 'unknown field'),
  },
  {
    name: 'ringSize, nothing close',
    input: lb({ policy: 'ring-hash', ringSize: { minimum: 3 } }),
    issues: one(`${LB}.ringSize.minimum`, 'unknown field'),
  },
  {
    name: 'hashOn, close to "header"',
    input: lb({ policy: 'ring-hash', hashOn: { headers: 'x-user' } }),
    issues: [
      { path: `${LB}.hashOn.headers`, message: 'unknown field (did you mean "header"?)' },
      { path: `${LB}.hashOn`, message: `set one of ${HASH_KEYS}` },
    ],
  },
  {
    name: 'subset, close to "labels" (and labels missing)',
    input: svc({ endpoints: ['a:1'], subsets: { v1: { label: { version: 'v1' } } } }),
    issues: [
      { path: `${SVC}.subsets.v1.labels`, message: 'is required (a map)' },
      { path: `${SVC}.subsets.v1.label`, message: 'unknown field (did you mean "labels"?)' },
    ],
  },
  {
    name: 'several unknown fields in one map',
    input: { mesh: { tracing: true, sidecarImage: true } },
    issues: [
      { path: 'mesh.tracing', message: 'unknown field' },
      { path: 'mesh.sidecarImage', message: 'unknown field' },
    ],
  },

  // ── load balancer ────────────────────────────────────────────────────────
  {
    name: 'unknown policy',
    input: lb({ policy: 'fastest' }),
    issues: one(`${LB}.policy`, `must be one of ${POLICIES}, ${CUSTOM}; got "fastest"`),
  },
  {
    name: 'unknown policy in a subset',
    input: svc({ endpoints: ['a:1'], subsets: { v1: { labels: { v: '1' }, loadBalancer: { policy: 'RANDOM' } } } }),
    issues: one(`${SVC}.subsets.v1.loadBalancer.policy`, `must be one of ${POLICIES}, ${CUSTOM}; got "RANDOM"`),
  },
  {
    name: 'panicThreshold 101',
    input: lb({ panicThreshold: 101 }),
    issues: one(`${LB}.panicThreshold`, 'must be a percentage from 0 to 100, got 101'),
  },
  {
    name: 'warmup without a duration',
    input: lb({ warmup: { minimumPercent: 20 } }),
    issues: one(`${LB}.warmup.duration`, `is required; ${DURATION_HINT}`),
  },
  {
    name: 'warmup of 0 s',
    input: lb({ warmup: { duration: '0s' } }),
    issues: one(`${LB}.warmup.duration`, 'must be longer than 0'),
  },
  {
    name: 'warmup aggression 0',
    input: lb({ warmup: { duration: '1m', aggression: 0 } }),
    issues: one(`${LB}.warmup.aggression`, 'must be greater than 0 (1 ramps linearly), got 0'),
  },
  {
    name: 'warmup minimumPercent 120',
    input: lb({ warmup: { duration: '1m', minimumPercent: 120 } }),
    issues: one(`${LB}.warmup.minimumPercent`, 'must be a percentage from 0 to 100, got 120'),
  },
  {
    name: 'warmup beside ring-hash',
    input: lb({ policy: 'ring-hash', warmup: { duration: '1m' } }),
    issues: one(
      `${LB}.warmup`,
      `the service's policy "ring-hash" cannot ramp an endpoint's weight (a hashing or custom policy would move keys at every step); warmup works with round-robin, least-request, random, peak-ewma`,
    ),
  },
  {
    name: 'failover with an empty region',
    input: lb({ failover: [{ from: 'eu', to: '' }] }),
    issues: one(`${LB}.failover[0].to`, 'must name a region'),
  },
  {
    name: 'failoverPriority with no labels',
    input: lb({ failoverPriority: [] }),
    issues: one(`${LB}.failoverPriority`, 'must list at least one label; leave it out for the zone and region order'),
  },
  {
    name: 'failoverPriority with a bad label key',
    input: lb({ failoverPriority: ['topology.istio.io/network=n1'] }),
    issues: one(
      `${LB}.failoverPriority[0]`,
      '"topology.istio.io/network=n1" is not a label key (an optional "prefix/", then up to 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit)',
    ),
  },
  {
    name: 'failover inherited beside failoverPriority',
    input: { mesh: { loadBalancer: { failover: [{ from: 'eu', to: 'us' }] } }, services: { reviews: { endpoints: ['10.0.0.1:9080'], loadBalancer: { failoverPriority: ['app'] } } } },
    issues: one(LB, 'sets (or inherits) failover and failoverPriority; proxyless places traffic between localities by one of them, so keep one'),
  },
  {
    name: 'distribute shares that do not add up to 100, and a zero share',
    input: lb({ distribute: [{ from: 'eu/*', to: { 'eu/eu-1': 70, 'eu/eu-2': 20, us: 0 } }] }),
    issues: [
      { path: `${LB}.distribute[0].to.us`, message: 'must be a whole percentage from 1 to 100, got 0' },
      { path: `${LB}.distribute[0].to`, message: 'shares add up to 90; they must add up to 100' },
    ],
  },
  {
    name: 'distribute shares adding up to 90',
    input: lb({ distribute: [{ from: 'eu/*', to: { 'eu/eu-1': 70, 'eu/eu-2': 20 } }] }),
    issues: one(`${LB}.distribute[0].to`, 'shares add up to 90; they must add up to 100'),
  },
  {
    name: 'distribute localities that are not patterns, or overlap',
    input: lb({
      distribute: [
        { from: 'eu', to: { 'eu/*/x': 50, 'eu/eu-1/rack-3': 50 } },
        { from: 'eu/eu-2', to: { '*': 100 } },
        { from: 'us//a', to: { 'us/a*': 100 } },
      ],
    }),
    issues: [
      { path: `${LB}.distribute[0].to["eu/*/x"]`, message: '"eu/*/x" may hold one "*", as its whole last part (e.g. "us-east/*")' },
      {
        path: `${LB}.distribute[0].to["eu/eu-1/rack-3"]`,
        message: '"eu/eu-1/rack-3" names a sub-zone; proxyless localities have none, so end at the zone or with "/*"',
      },
      { path: `${LB}.distribute[2].to["us/a*"]`, message: '"us/a*" may hold one "*", as its whole last part (e.g. "us-east/*")' },
      { path: `${LB}.distribute[1].from`, message: '"eu/eu-2" overlaps "eu"; a locality may be named once' },
      { path: `${LB}.distribute[2].from`, message: '"us//a" has an empty part; write region, region/zone or end with "*"' },
    ],
  },
  {
    name: 'distribute beside failover',
    input: lb({ failover: [{ from: 'eu', to: 'us' }], distribute: [{ from: 'eu', to: { eu: 100 } }] }),
    issues: one(LB, 'sets (or inherits) failover and distribute; proxyless places traffic between localities by one of them, so keep one'),
  },
  {
    name: 'tcpKeepalive interval and probes',
    input: svc({ endpoints: ['10.0.0.1:9080'], connectionPool: { tcpKeepalive: { time: '5m', interval: '75s', probes: 9 } } }),
    issues: [
      {
        path: `${SVC}.connectionPool.tcpKeepalive.interval`,
        message: 'cannot be set from Node, which probes every 1 s, 10 times, once time has passed; set time alone',
      },
      {
        path: `${SVC}.connectionPool.tcpKeepalive.probes`,
        message: 'cannot be set from Node, which probes every 1 s, 10 times, once time has passed; set time alone',
      },
    ],
  },
  {
    name: 'tcpKeepalive time under a second',
    input: svc({ endpoints: ['10.0.0.1:9080'], connectionPool: { tcpKeepalive: { time: '500ms' } } }),
    issues: one(`${SVC}.connectionPool.tcpKeepalive.time`, 'must be at least 1s (the kernel counts whole seconds), got 500ms'),
  },
  {
    name: 'panicThreshold -1',
    input: lb({ panicThreshold: -1 }),
    issues: one(`${LB}.panicThreshold`, 'must be a percentage from 0 to 100, got -1'),
  },
  {
    name: 'ring size min > max',
    input: lb({ policy: 'ring-hash', ringSize: { min: 4096, max: 1024 } }),
    issues: one(`${LB}.ringSize`, 'min (4096) must not exceed max (1024); min defaults to 1024 when not set'),
  },
  {
    name: 'ring size max below the default min',
    input: lb({ policy: 'ring-hash', ringSize: { max: 512 } }),
    issues: one(`${LB}.ringSize`, 'min (1024) must not exceed max (512); min defaults to 1024 when not set'),
  },
  {
    name: 'ring size min 0',
    input: lb({ policy: 'ring-hash', ringSize: { min: 0 } }),
    issues: one(`${LB}.ringSize.min`, 'must be at least 1, got 0'),
  },
  {
    name: 'maglev table size not prime',
    input: lb({ policy: 'maglev', maglevTableSize: 65536 }),
    issues: one(`${LB}.maglevTableSize`, 'must be a prime number (such as 65537 or 5000011), got 65536'),
  },
  {
    name: 'maglev table size above the maximum gets one message, not two',
    input: lb({ policy: 'maglev', maglevTableSize: 5_000_012 }),
    issues: one(`${LB}.maglevTableSize`, 'must be at most 5000011, got 5000012'),
  },
  {
    name: 'hashOn with two keys',
    input: lb({ policy: 'ring-hash', hashOn: { header: 'x-user', cookie: 'session' } }),
    issues: one(`${LB}.hashOn`, `set only one of ${HASH_KEYS}; got header and cookie`),
  },
  {
    name: 'hashOn with an unknown key',
    input: lb({ policy: 'maglev', hashOn: { path: true } }),
    issues: [
      { path: `${LB}.hashOn.path`, message: 'unknown field' },
      { path: `${LB}.hashOn`, message: `set one of ${HASH_KEYS}` },
    ],
  },
  {
    name: 'hashOn empty',
    input: lb({ policy: 'maglev', hashOn: {} }),
    issues: one(`${LB}.hashOn`, `set one of ${HASH_KEYS}`),
  },
  {
    name: 'hashOn sourceIp: false',
    input: lb({ policy: 'ring-hash', hashOn: { sourceIp: false } }),
    issues: one(`${LB}.hashOn.sourceIp`, 'must be true to hash on the client address (or leave it out)'),
  },
  {
    name: 'hashOn empty header name',
    input: lb({ policy: 'ring-hash', hashOn: { header: '' } }),
    issues: one(`${LB}.hashOn.header`, 'must not be empty'),
  },
  {
    name: 'localityAware as a string',
    input: lb({ localityAware: 'yes' }),
    issues: one(`${LB}.localityAware`, 'must be a boolean, got string "yes"'),
  },

  // ── names ───────────────────────────────────────────────────────────────
  {
    name: 'service name with uppercase',
    input: { services: { Reviews: { endpoints: ['a:1'] } } },
    issues: one('services.Reviews', `service name "Reviews" must be a ${DNS_LABEL_RULE}`),
  },
  {
    name: 'service name with a dot',
    input: { services: { 'reviews.v1': { endpoints: ['a:1'] } } },
    issues: one('services["reviews.v1"]', `service name "reviews.v1" must be a ${DNS_LABEL_RULE}`),
  },
  {
    name: 'service name of 64 characters',
    input: { services: { ['r'.repeat(64)]: { endpoints: ['a:1'] } } },
    issues: one(`services.${'r'.repeat(64)}`, `service name "${'r'.repeat(64)}" must be a ${DNS_LABEL_RULE}`),
  },
  {
    name: 'service namespace with uppercase',
    input: svc({ namespace: 'Prod', endpoints: ['a:1'] }),
    issues: one(`${SVC}.namespace`, `"Prod" is not a valid namespace name (a ${DNS_LABEL_RULE})`),
  },
  {
    name: 'mesh namespace with "_"',
    input: { mesh: { namespace: 'my_ns' } },
    issues: one('mesh.namespace', `"my_ns" is not a valid namespace name (a ${DNS_LABEL_RULE})`),
  },
  {
    name: 'mesh namespace of 64 characters',
    input: { mesh: { namespace: 'n'.repeat(64) } },
    issues: one('mesh.namespace', `"${'n'.repeat(64)}" is not a valid namespace name (a ${DNS_LABEL_RULE})`),
  },
  {
    name: 'clusterDomain with a space',
    input: { mesh: { clusterDomain: 'cluster local' } },
    issues: one('mesh.clusterDomain', '"cluster local" is not an IP address or DNS name'),
  },
  {
    name: 'empty serviceName',
    input: { mesh: { serviceName: '' } },
    issues: one('mesh.serviceName', 'must not be empty'),
  },
  {
    name: 'bad host in hosts',
    input: svc({ hosts: ['reviews.example.com', 'bad host'], endpoints: ['a:1'] }),
    issues: one(`${SVC}.hosts[1]`, '"bad host" is not an IP address or DNS name'),
  },

  // ── endpoints vs discovery ─────────────────────────────────────────────
  {
    name: 'endpoints and discovery both set',
    input: svc({ endpoints: ['a:1'], discovery: 'dns:reviews.internal:9080' }),
    issues: one(`${SVC}.discovery`, 'set either endpoints (static) or discovery, not both'),
  },
  {
    name: 'neither endpoints nor discovery',
    input: svc({ port: 9080 }),
    issues: one(
      SVC,
      'needs either endpoints (a static list) or discovery (a URI such as "dns:reviews.internal:9080")',
    ),
  },
  {
    name: 'endpoint string with no port and no service port',
    input: svc({ endpoints: ['10.0.0.1:9080', 'reviews-2'] }),
    issues: one(
      'services.reviews.endpoints[1]',
      `endpoint "reviews-2" has no port and the service sets no port; give the endpoint a port or set the service's port`,
    ),
  },
  {
    name: 'endpoint map with no port and no service port',
    input: ep({ address: '10.0.0.1' }),
    issues: one(
      EP0,
      `endpoint "10.0.0.1" has no port and the service sets no port; give the endpoint a port or set the service's port`,
    ),
  },
  {
    name: 'discovery URI without a scheme',
    input: svc({ discovery: 'reviews.internal' }),
    issues: one(`${SVC}.discovery`, '"reviews.internal" is not a discovery URI such as "dns:reviews.internal:9080"'),
  },
  {
    name: 'discovery URI with nothing after the scheme',
    input: svc({ discovery: 'dns:' }),
    issues: one(`${SVC}.discovery`, '"dns:" is not a discovery URI such as "dns:reviews.internal:9080"'),
  },

  // ── durations ──────────────────────────────────────────────────────────
  {
    name: 'duration "soon"',
    input: { mesh: { dnsRefreshInterval: 'soon' } },
    issues: one('mesh.dnsRefreshInterval', `"soon" is not a duration; ${DURATION_HINT}`),
  },
  {
    name: 'duration "-5s"',
    input: { mesh: { dnsRefreshInterval: '-5s' } },
    issues: one('mesh.dnsRefreshInterval', `"-5s" is not a duration; ${DURATION_HINT}`),
  },
  {
    name: 'duration "5 s"',
    input: { mesh: { dnsRefreshInterval: '5 s' } },
    issues: one('mesh.dnsRefreshInterval', `"5 s" is not a duration; ${DURATION_HINT}`),
  },
  {
    name: 'duration ""',
    input: { mesh: { dnsRefreshInterval: '' } },
    issues: one('mesh.dnsRefreshInterval', `"" is not a duration; ${DURATION_HINT}`),
  },
  {
    name: 'duration -5 (a negative number of milliseconds)',
    input: { mesh: { dnsRefreshInterval: -5 } },
    issues: one('mesh.dnsRefreshInterval', 'must not be negative, got -5'),
  },
  {
    name: 'duration NaN',
    input: { mesh: { dnsRefreshInterval: Number.NaN } },
    issues: one('mesh.dnsRefreshInterval', `NaN is not a duration; ${DURATION_HINT}`),
  },
  {
    name: 'duration true',
    input: { mesh: { dnsRefreshInterval: true } },
    issues: one('mesh.dnsRefreshInterval', `true is not a duration; ${DURATION_HINT}`),
  },

  // ── wrong types ────────────────────────────────────────────────────────
  {
    name: 'a string where a list is expected',
    input: svc({ endpoints: '10.0.0.1:9080' }),
    issues: one(`${SVC}.endpoints`, 'must be a list, got string "10.0.0.1:9080"'),
  },
  {
    name: 'a list where a map is expected (services)',
    input: { services: [{ endpoints: ['a:1'] }] },
    issues: one('services', 'must be a map, got a list'),
  },
  {
    name: 'a list where a map is expected (labels)',
    input: ep({ address: '10.0.0.1', port: 80, labels: ['version=v1'] }),
    issues: one(`${EP0}.labels`, 'must be a map, got a list'),
  },
  {
    name: 'null mesh',
    input: { mesh: null },
    issues: one('mesh', 'must be a map, got null'),
  },
  {
    name: 'null service',
    input: { services: { reviews: null } },
    issues: one(SVC, 'must be a map, got null'),
  },
  {
    name: 'a string where the loadBalancer map is expected',
    input: lb('round-robin'),
    issues: one(LB, 'must be a map, got string "round-robin"'),
  },
  {
    name: 'a number where a string is expected',
    input: svc({ discovery: 42 }),
    issues: one(`${SVC}.discovery`, 'must be a string, got number 42'),
  },

  // ── top level ──────────────────────────────────────────────────────────
  {
    name: 'top level is a string (e.g. a YAML scalar)',
    input: 'mesh: {',
    issues: one('', 'the config must be a map (with "mesh" and "services"), got string "mesh: {"'),
  },
  {
    name: 'top level is a list',
    input: [{ mesh: {} }],
    issues: one('', 'the config must be a map (with "mesh" and "services"), got a list'),
  },
  {
    name: 'top level is a number',
    input: 42,
    issues: one('', 'the config must be a map (with "mesh" and "services"), got number 42'),
  },

  // ── many problems, one error ─────────────────────────────────────────────
  {
    // Within one map, zod reports its fields in schema order, then unknown fields.
    name: 'every problem is reported together',
    input: {
      mesh: { namespace: 'Prod', dnsRefreshInterval: 'soon', tracing: true },
      services: {
        reviews: { port: 0, endpoints: ['a:b:c', { address: '10.0.0.2', weight: 0 }] },
        ratings: { discovery: 'ratings' },
      },
    },
    issues: [
      { path: 'mesh.namespace', message: `"Prod" is not a valid namespace name (a ${DNS_LABEL_RULE})` },
      { path: 'mesh.dnsRefreshInterval', message: `"soon" is not a duration; ${DURATION_HINT}` },
      { path: 'mesh.tracing', message: 'unknown field' },
      { path: 'services.reviews.port', message: 'must be a port from 1 to 65535, got 0' },
      { path: 'services.reviews.endpoints[0]', message: '"a:b:c" is not host:port (write IPv6 addresses as [addr]:port)' },
      { path: 'services.reviews.endpoints[1].weight', message: 'must be at least 1, got 0' },
      {
        path: 'services.ratings.discovery',
        message: '"ratings" is not a discovery URI such as "dns:reviews.internal:9080"',
      },
    ],
  },
  // ── the verified-token cache ───────────────────────────────────────────
  {
    name: 'jwtCache.maxTokens negative',
    input: { mesh: { security: { jwtCache: { maxTokens: -1 } } } },
    issues: one('mesh.security.jwtCache.maxTokens', 'must be at least 0, got -1'),
  },
  {
    name: 'jwtCache.maxAge not a duration',
    input: { mesh: { security: { jwtCache: { maxAge: 'forever' } } } },
    issues: one('mesh.security.jwtCache.maxAge', `"forever" is not a duration; ${DURATION_HINT}`),
  },
  {
    name: 'jwtCache with a misspelled field',
    input: { mesh: { security: { jwtCache: { maxToken: 10 } } } },
    issues: one('mesh.security.jwtCache.maxToken', 'unknown field (did you mean "maxTokens"?)'),
  },
];

function rejectionOf(input: unknown, source = 'test'): ConfigError {
  try {
    validateConfig(input, source);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error(`expected ${JSON.stringify(input)} to be rejected`);
}

describe('invalid configs', () => {
  it('has at least 40 cases with distinct names', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(40);
    expect(new Set(CASES.map((c) => c.name)).size).toBe(CASES.length);
  });

  it.each(CASES)('$name', ({ input, issues }) => {
    const err = rejectionOf(input, 'file /etc/mesh/mesh.yaml');
    expect(isMeshError(err)).toBe(true);
    expect(err.code).toBe('MESH_CONFIG_INVALID');
    expect(err.retryable).toBe(false);
    expect(err.source).toBe('file /etc/mesh/mesh.yaml');
    expect(err.details).toEqual({ source: 'file /etc/mesh/mesh.yaml' });
    expect(err.issues).toEqual(issues);
  });
});

describe('ConfigError', () => {
  it('puts one problem on one line, with the source and path', () => {
    const err = rejectionOf(svc({ port: 0, endpoints: ['a'] }), 'options');
    expect(err.name).toBe('ConfigError');
    expect(err.message).toBe('invalid config from options: services.reviews.port: must be a port from 1 to 65535, got 0');
  });

  it('lists several problems, one per line, with a count', () => {
    const err = rejectionOf({ mesh: { tracing: true, namespace: 'my_ns' } }, 'env');
    expect(err.message).toBe(
      'invalid config from env (2 problems):\n' +
        `  mesh.namespace: "my_ns" is not a valid namespace name (a ${DNS_LABEL_RULE})\n` +
        '  mesh.tracing: unknown field',
    );
  });

  it('omits the path for a problem with the whole config', () => {
    const err = rejectionOf(7, 'xds');
    expect(err.message).toBe(
      'invalid config from xds: the config must be a map (with "mesh" and "services"), got number 7',
    );
  });

  it('is also an Error with a stack', () => {
    const err = rejectionOf([]);
    expect(err).toBeInstanceOf(Error);
    expect(typeof err.stack).toBe('string');
  });
});
