/**
 * The compiled matchers on their own: IP parsing (every IPv6 spelling the
 * hand parser must get right, checked against node:net), CIDR masks, path
 * templates and bounded string matching.
 */
import { BlockList, isIP } from 'node:net';
import { describe, expect, it } from 'vitest';
import { compileAuthorization } from '../../../../src/security/authz/compile.js';
import { IPV4, IPV6, type IpBlock, IpRanges, NOT_IP, parseIp, parseIpBlock } from '../../../../src/security/authz/ip.js';
import { parseAuthorizationPolicies } from '../../../../src/security/authz/parse.js';
import { PathTemplate } from '../../../../src/security/authz/path-template.js';
import { StringPatterns } from '../../../../src/security/authz/string-patterns.js';
import { request, WORKLOAD } from './support.js';

function block(text: string): IpBlock {
  const b = parseIpBlock(text);
  if (typeof b === 'string') throw new Error(b);
  return b;
}

function inRanges(ranges: IpRanges, ip: string): boolean {
  const words = new Uint32Array(4);
  return ranges.test(parseIp(ip, words), words);
}

describe('parseIp', () => {
  const words = new Uint32Array(4);
  it.each([
    ['10.1.2.3', IPV4],
    ['255.255.255.255', IPV4],
    ['::', IPV6],
    ['::1', IPV6],
    ['1::', IPV6],
    ['2001:db8::5', IPV6],
    ['2001:DB8:0:0:0:0:0:5', IPV6],
    ['fe80::1%eth0', IPV6],
    ['::ffff:10.1.2.3', IPV4],
    ['64:ff9b::10.1.2.3', IPV6],
    ['', NOT_IP],
    ['10.1.2', NOT_IP],
    ['10.1.2.256', NOT_IP],
    ['1.2.3.4.5', NOT_IP],
    ['1:2:3:4:5:6:7:8:9', NOT_IP],
    ['1::2::3', NOT_IP],
    [':1', NOT_IP],
    ['1:', NOT_IP],
    ['12345::', NOT_IP],
    ['g::1', NOT_IP],
  ])('%s → family %i', (text, family) => {
    expect(parseIp(text, words)).toBe(family);
  });

  it('agrees with node:net on what is in a block', () => {
    const cases: [string, string][] = [
      ['2001:db8::/32', '2001:db8:ffff::1'],
      ['2001:db8::/32', '2001:db9::1'],
      ['::/0', '::1'],
      ['fd00::/8', 'fd12:3456:789a::1'],
      ['2001:db8:0:1::/64', '2001:db8::1:0:0:0:9'],
      ['2001:db8:0:1::/64', '2001:db8:0:1:ffff:ffff:ffff:ffff'],
      ['10.0.0.0/8', '10.255.0.1'],
      ['10.0.0.0/8', '11.0.0.1'],
      ['0.0.0.0/0', '192.0.2.1'],
      ['192.0.2.7/32', '192.0.2.7'],
    ];
    for (const [cidr, ip] of cases) {
      const [net, bits] = cidr.split('/') as [string, string];
      const list = new BlockList();
      list.addSubnet(net, Number(bits), isIP(net) === 6 ? 'ipv6' : 'ipv4');
      const expected = list.check(ip, isIP(ip) === 6 ? 'ipv6' : 'ipv4');
      expect(inRanges(new IpRanges([block(cidr)]), ip), `${ip} in ${cidr}`).toBe(expected);
    }
  });
});

describe('parseIpBlock', () => {
  it('clears host bits, as Istio reads 10.1.2.3/8', () => {
    expect(inRanges(new IpRanges([block('10.1.2.3/8')]), '10.200.0.1')).toBe(true);
  });

  it('reads an IPv4-mapped block as IPv4, past the mapped prefix', () => {
    const b = block('::ffff:10.0.0.0/104');
    expect([b.family, b.prefix]).toEqual([IPV4, 8]);
    expect(inRanges(new IpRanges([b]), '10.9.9.9')).toBe(true);
  });

  it('keeps IPv4 and IPv6 apart', () => {
    const ranges = new IpRanges([block('0.0.0.0/0')]);
    expect(inRanges(ranges, '::1')).toBe(false);
    expect(inRanges(ranges, 'not an ip')).toBe(false);
  });
});

describe('PathTemplate', () => {
  it.each([
    ['/foo/{*}', '/foo/bar', true],
    ['/foo/{*}', '/foo/bar/baz', false],
    ['/foo/{*}', '/foo/', false],
    ['/foo/{**}/', '/foo/bar/', true],
    ['/foo/{**}/', '/foo//', true],
    ['/foo/{**}/', '/foo/bar', false],
    ['/foo/{*}/bar/{**}', '/foo/buzz/bar/', true],
    ['/foo/{*}/bar/{**}', '/foo/buzz/bar/baz', true],
    ['/foo/{*}/bar/{**}', '/foo/buzz/baz/bar/x', false],
    ['/{*}/v1/{*}', '/svc/v1/op', true],
    ['/a/{*}', '/a/b c', false],
  ])('%s vs %s → %s', (template, path, expected) => {
    expect(new PathTemplate(template).test(path, 0, path.length)).toBe(expected);
  });

  it('matches only up to the given end', () => {
    const path = '/foo/bar?x=/y';
    expect(new PathTemplate('/foo/{*}').test(path, 0, path.indexOf('?'))).toBe(true);
  });
});

describe('StringPatterns', () => {
  const p = new StringPatterns(['/exact', '/pre*', '*.png']);

  it.each([
    ['/exact', true],
    ['/exactly', false],
    ['/pre', true],
    ['/prefix/x', true],
    ['/a/b.png', true],
    ['/a/b.jpg', false],
  ])('%s → %s', (value, expected) => {
    expect(p.test(value, 0, value.length)).toBe(expected);
  });

  it('matches inside bounds without slicing', () => {
    const text = 'xx/exact?q';
    expect(p.test(text, 2, 8)).toBe(true);
    expect(p.test(text, 2, 9)).toBe(false);
  });

  it('"*" needs a non-empty value, except as header presence', () => {
    expect(new StringPatterns(['*']).test('', 0, 0)).toBe(false);
    expect(new StringPatterns(['*'], { emptyIsPresent: true }).test('', 0, 0)).toBe(true);
  });

  it('compares a few exact values and hashes many, with the same answers', () => {
    const few = ['/a', '/bb', '/ccc'];
    const many = [...few, '/d', '/ee', '/fff', '/gggg'];
    for (const values of [few, many]) {
      const patterns = new StringPatterns(values);
      for (const v of values) {
        expect(patterns.test(v, 0, v.length)).toBe(true);
        expect(patterns.test(`x${v}?q`, 1, v.length + 1)).toBe(true);
        expect(patterns.test(`${v}x`, 0, v.length + 1)).toBe(false);
      }
      expect(patterns.test('/zz', 0, 3)).toBe(false);
    }
  });

  it('reports the single-value shape that clauses match inline', () => {
    expect(new StringPatterns(['GET']).single()).toEqual({ value: 'GET', prefix: false });
    expect(new StringPatterns(['/users/*']).single()).toEqual({ value: '/users/', prefix: true });
    for (const values of [['GET', 'HEAD'], ['*'], ['*.png'], ['/a/{*}'], ['/a', '/b*']]) {
      expect(new StringPatterns(values, { templates: true }).single(), values.join()).toBeUndefined();
    }
  });
});

describe('one-value clauses', () => {
  // The same policy twice: with one value per field (matched inline by the
  // clause) and with each value repeated (matched by StringPatterns.test).
  const policy = (fields: Record<string, string[]>) => ({
    name: 'p',
    rules: [{ from: [{ principals: fields.principals }], to: [{ methods: fields.methods, paths: fields.paths }] }],
  });
  const one = { principals: ['cluster.local/ns/default/*'], methods: ['GET'], paths: ['/users/*'] };
  const twice = Object.fromEntries(Object.entries(one).map(([k, v]) => [k, [...v, ...v]]));
  const exactOne = { principals: ['cluster.local/ns/default/sa/sleep'], methods: ['GET'], paths: ['/users'] };
  const exactTwice = Object.fromEntries(Object.entries(exactOne).map(([k, v]) => [k, [...v, ...v]]));
  // A value with `?` never matches, as matching stops before the query: not matched in place.
  const queryOne = { ...one, paths: ['/users?x*'] };
  const queryTwice = { ...twice, paths: ['/users?x*', '/users?x*'] };
  const compile = (fields: Record<string, string[]>) => compileAuthorization(parseAuthorizationPolicies([policy(fields)]), WORKLOAD);

  it.each([
    [one, twice],
    [exactOne, exactTwice],
    [queryOne, queryTwice],
  ])('decide as the general matcher does (%#)', (inline, general) => {
    const a = compile(inline);
    const b = compile(general);
    const paths = ['/users', '/users/', '/users/42', '/users?x=1', '/users/42?x', '/user', '/users#f', '/other', '/'];
    const principals = ['cluster.local/ns/default/sa/sleep', 'spiffe://cluster.local/ns/default/sa/sleep', 'cluster.local/ns/other/sa/x', undefined];
    let allowed = 0;
    for (const path of paths) {
      for (const method of ['GET', 'POST', 'GETX']) {
        for (const principal of principals) {
          const req = request({ path, method, principal });
          const got = a.check(req).allowed;
          expect(got, `${method} ${path} ${principal}`).toBe(b.check(req).allowed);
          if (got) allowed++;
        }
      }
    }
    expect(allowed > 0).toBe(inline !== queryOne);
  });
});
