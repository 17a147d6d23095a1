/**
 * Every way RequestAuthentication config can be wrong, and the exact words
 * a user sees for it: the full path from the top of the input and the
 * reason. Each row asserts the whole list of issues.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, type ConfigIssue } from '../../../../src/config/config-error.js';
import { parseRequestAuthenticationYaml, validateRequestAuthentications } from '../../../../src/security/jwt/parse.js';

const RA = 'requestAuthentications[0]';
const RULE = `${RA}.spec.jwtRules[0]`;

function istio(rule: Record<string, unknown>, extra: Record<string, unknown> = {}): unknown {
  return {
    apiVersion: 'security.istio.io/v1',
    kind: 'RequestAuthentication',
    metadata: { name: 'jwt', namespace: 'foo' },
    spec: { jwtRules: [rule] },
    ...extra,
  };
}

const OK = { issuer: 'https://issuer.example.com' };

const CASES: readonly { name: string; input: unknown; issues: ConfigIssue[] }[] = [
  {
    name: 'misspelt rule field',
    input: istio({ ...OK, jwksUrl: 'https://x' }),
    issues: [{ path: `${RULE}.jwksUrl`, message: 'unknown field (did you mean "jwksUri"?)' }],
  },
  {
    name: 'jwksUri not http(s)',
    input: [istio(OK), istio({ ...OK, jwksUri: 'ftp://keys.example.com/jwks' }, { metadata: { name: 'b' } })],
    issues: [{ path: 'requestAuthentications[1].spec.jwtRules[0].jwksUri', message: '"ftp://keys.example.com/jwks" is not an http or https URL' }],
  },
  {
    name: 'neither issuer nor jwksUri',
    input: istio({ audiences: ['a'] }),
    issues: [{ path: `${RULE}.issuer`, message: 'set issuer, jwksUri, or both' }],
  },
  {
    name: 'issuer that cannot be discovered',
    input: istio({ issuer: 'issuer-foo' }),
    issues: [
      {
        path: `${RULE}.jwksUri`,
        message:
          'is required: the keys of issuer "issuer-foo" cannot be found by OpenID discovery, which needs an http or https issuer URL (or set jwks)',
      },
    ],
  },
  {
    name: 'jwks not JSON',
    input: istio({ ...OK, jwks: '{keys: [' }),
    issues: [{ path: `${RULE}.jwks`, message: 'is not valid JSON; write the JSON Web Key Set document as a string' }],
  },
  {
    name: 'jwks without keys',
    input: istio({ ...OK, jwks: '{"key": []}' }),
    issues: [{ path: `${RULE}.jwks`, message: 'is not a JSON Web Key Set (an object with a "keys" list)' }],
  },
  {
    name: 'jwks with a symmetric key and a private key',
    input: istio({
      ...OK,
      jwks: JSON.stringify({
        keys: [
          { kty: 'oct', kid: 'hmac', k: 'c2VjcmV0' },
          { kty: 'EC', kid: 'priv', crv: 'P-256', x: 'x', y: 'y', d: 'secret-d' },
          { kty: 'RSA', kid: 'short', n: 'AQAB', e: 'AQAB' },
          { kty: 'EC', kid: 'bad', crv: 'P-256', x: 'AAAA', y: 'AAAA' },
        ],
      }),
    }),
    issues: [
      { path: `${RULE}.jwks`, message: 'keys[0] (kid "hmac") is a symmetric ("oct") key; only public RSA, EC and OKP keys verify tokens' },
      { path: `${RULE}.jwks`, message: 'keys[1] (kid "priv") holds private key material; publish only the public key' },
      { path: `${RULE}.jwks`, message: 'keys[2] (kid "short") is a 17-bit RSA key; at least 2048 bits are required' },
      { path: `${RULE}.jwks`, message: 'keys[3] (kid "bad") is not a valid public key' },
    ],
  },
  {
    name: 'empty jwks',
    input: istio({ ...OK, jwks: '{"keys": []}' }),
    issues: [{ path: `${RULE}.jwks`, message: 'has no keys; a token could never verify' }],
  },
  {
    name: 'empty audience',
    input: istio({ ...OK, audiences: ['a', ''] }),
    issues: [{ path: `${RULE}.audiences[1]`, message: 'must not be empty' }],
  },
  {
    name: 'header location without a name, and a bad header name',
    input: istio({ ...OK, fromHeaders: [{ prefix: 'Bearer ' }, { name: 'x token' }] }),
    issues: [
      { path: `${RULE}.fromHeaders[0].name`, message: 'is required (a string)' },
      { path: `${RULE}.fromHeaders[1].name`, message: '"x token" is not a valid HTTP header name' },
    ],
  },
  {
    name: 'empty param and cookie names',
    input: istio({ ...OK, fromParams: [''], fromCookies: ['a;b'] }),
    issues: [
      { path: `${RULE}.fromParams[0]`, message: 'must not be empty' },
      { path: `${RULE}.fromCookies[0]`, message: '"a;b" is not a valid cookie name' },
    ],
  },
  {
    name: 'two claims to one header',
    input: istio({ ...OK, outputClaimToHeaders: [{ header: 'X-Sub', claim: 'sub' }, { header: 'x-sub', claim: 'email' }] }),
    issues: [
      { path: `${RULE}.outputClaimToHeaders[1].header`, message: '"x-sub" is already the target of an earlier claim; each header takes one claim' },
    ],
  },
  {
    name: 'claim without a name',
    input: istio({ ...OK, outputClaimToHeaders: [{ header: 'x-sub', claim: '' }] }),
    issues: [{ path: `${RULE}.outputClaimToHeaders[0].claim`, message: 'must not be empty' }],
  },
  {
    name: 'bad timeouts',
    input: [istio({ ...OK, timeout: '5 sec' }), istio({ ...OK, timeout: '0s' }, { metadata: { name: 'b' } })],
    issues: [
      {
        path: `${RULE}.timeout`,
        message: '"5 sec" is not a duration; write milliseconds as a number or a string like "250ms", "5s", "1m30s"',
      },
      { path: 'requestAuthentications[1].spec.jwtRules[0].timeout', message: 'must be at least 1ms' },
    ],
  },
  {
    name: 'wrong type',
    input: istio({ ...OK, forwardOriginalToken: 'yes', audiences: 'a' }),
    issues: [
      { path: `${RULE}.audiences`, message: 'must be a list, got string "a"' },
      { path: `${RULE}.forwardOriginalToken`, message: 'must be a boolean, got string "yes"' },
    ],
  },
  {
    name: 'unsupported apiVersion',
    input: istio(OK, { apiVersion: 'security.istio.io/v1alpha1' }),
    issues: [
      {
        path: `${RA}.apiVersion`,
        message: 'must be one of "security.istio.io/v1", "security.istio.io/v1beta1", got "security.istio.io/v1alpha1"',
      },
    ],
  },
  {
    name: 'misspelt spec field',
    input: istio(OK, { spec: { jwtRule: [OK] } }),
    issues: [{ path: `${RA}.spec.jwtRule`, message: 'unknown field (did you mean "jwtRules"?)' }],
  },
  {
    name: 'selector and targetRef together',
    input: istio(OK, {
      spec: { selector: { matchLabels: { app: 'a' } }, targetRef: { kind: 'Gateway', name: 'gw' }, jwtRules: [OK] },
    }),
    issues: [{ path: `${RA}.spec.targetRef`, message: 'set only one of selector, targetRef and targetRefs; got selector and targetRef' }],
  },
  {
    name: 'selector wildcard',
    input: istio(OK, { spec: { selector: { matchLabels: { app: '*' } }, jwtRules: [OK] } }),
    issues: [{ path: `${RA}.spec.selector.matchLabels.app`, message: 'label values cannot contain "*"; selectors match exactly' }],
  },
  {
    name: 'metadata without a name, with a bad namespace and a typo',
    input: istio(OK, { metadata: { namespce: 'foo', namespace: 'Foo_Bar' } }),
    issues: [
      { path: `${RA}.metadata.name`, message: 'is required (a string)' },
      {
        path: `${RA}.metadata.namespace`,
        message: '"Foo_Bar" is not a valid namespace (a DNS label: lowercase letters, digits and "-", at most 63 characters)',
      },
      { path: `${RA}.metadata.namespce`, message: 'unknown field (did you mean "namespace"?)' },
    ],
  },
  {
    name: 'two resources with one name',
    input: [istio(OK), istio(OK)],
    issues: [{ path: 'requestAuthentications[1].metadata.name', message: '"jwt" in namespace "foo" is already defined by requestAuthentications[0]' }],
  },
  {
    name: 'compact: no rules, misspelt selector',
    input: { requestAuthentications: [{ selectr: { app: 'a' }, jwtRules: [] }] },
    issues: [
      { path: `${RA}.jwtRules`, message: 'must have at least 1 item' },
      { path: `${RA}.selectr`, message: 'unknown field (did you mean "selector"?)' },
    ],
  },
  {
    name: 'compact rule error',
    input: [{ name: 'a', jwtRules: [OK, { ...OK, jwksUri: 'nope' }] }],
    issues: [{ path: 'requestAuthentications[0].jwtRules[1].jwksUri', message: '"nope" is not an http or https URL' }],
  },
  {
    name: 'entry that is not a map',
    input: [OK, 'jwt'],
    issues: [
      { path: `${RA}.jwtRules`, message: 'is required (a list)' },
      { path: `${RA}.issuer`, message: 'unknown field' },
      { path: 'requestAuthentications[1]', message: 'must be a map, got "jwt"' },
    ],
  },
];

function issuesOf(run: () => unknown): readonly ConfigIssue[] {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).code).toBe('MESH_CONFIG_INVALID');
    return (err as ConfigError).issues;
  }
  throw new Error('expected a ConfigError');
}

describe('invalid config', () => {
  it.each(CASES)('$name', ({ input, issues }) => {
    expect(issuesOf(() => validateRequestAuthentications(input))).toEqual(issues);
  });

  it('reports YAML syntax errors with line and column', () => {
    const issues = issuesOf(() => parseRequestAuthenticationYaml('kind: RequestAuthentication\nspec: [unclosed\n'));
    expect(issues[0]?.message).toMatch(/^YAML syntax error at line \d+, column \d+: /);
  });

  it('reports a misspelt kind and a document of the wrong shape, with the source', () => {
    const yaml = 'apiVersion: security.istio.io/v1\nkind: RequestAuthenitcation\nmetadata: {name: a}\n---\nrequestAuthentication: []\n';
    let message = '';
    const issues = issuesOf(() => {
      try {
        parseRequestAuthenticationYaml(yaml, { source: 'file authn.yaml' });
      } catch (err) {
        message = (err as Error).message;
        throw err;
      }
    });
    expect(issues).toEqual([
      { path: '', message: 'document 1: kind "RequestAuthenitcation" is not known (did you mean "RequestAuthentication"?)' },
      {
        path: '',
        message:
          'document 2: expected a RequestAuthentication resource (with apiVersion and kind) or a map with a "requestAuthentications" list (did you mean "requestAuthentications"?)',
      },
    ]);
    expect(message).toMatch(/^invalid config from file authn\.yaml \(2 problems\)/);
  });

  it('reports the path into a multi-document file by policy number', () => {
    const first = 'apiVersion: security.istio.io/v1\nkind: RequestAuthentication\nmetadata: {name: a}\n';
    const yaml = `${first}---\n${first.replace('name: a', 'name: b')}---\nrequestAuthentications:\n- jwtRules:\n  - issuer: https://a.example.com\n    jwksUri: https://a.example.com/jwks\n  - issuer: https://b.example.com\n    jwksUri: "::"\n`;
    expect(issuesOf(() => parseRequestAuthenticationYaml(yaml))).toEqual([
      { path: 'requestAuthentications[2].jwtRules[1].jwksUri', message: '"::" is not an http or https URL' },
    ]);
  });
});
