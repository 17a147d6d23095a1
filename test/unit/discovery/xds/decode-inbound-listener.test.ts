/**
 * Decoding inbound listeners: RBAC written the way istiod writes it (not
 * only the way our control plane does), the mTLS modes, and every shape the
 * mesh cannot enforce as written refused with the field named.
 */
import { describe, expect, it } from 'vitest';
import { decodeInboundListener } from '../../../../src/discovery/xds/decode-inbound-listener.js';
import { packAny, TYPE_URL, unpackAny } from '../../../../src/discovery/xds/envoy-protos.js';
import {
  DOWNSTREAM_TLS_TYPE_URL,
  JWT_AUTHN_TYPE_URL,
  pathTemplateRegex,
  RBAC_TYPE_URL,
  ROUTER_TYPE_URL,
  readPathTemplateRegex,
  readPrincipalRegex,
} from '../../../../src/discovery/xds/inbound-vocabulary.js';

type Obj = Record<string, unknown>;

function listener(filters: Obj[], chains: { tls?: boolean; requireClient?: boolean; match?: Obj }[] = [{}]): Obj {
  const hcm = {
    stat_prefix: 'in',
    route_config: { name: 'in', virtual_hosts: [{ name: 'in', domains: ['*'], routes: [{ match: { prefix: '/' }, non_forwarding_action: {} }] }] },
    http_filters: [...filters, { name: 'router', typed_config: packAny(ROUTER_TYPE_URL, {}) }],
  };
  const tls = (require: boolean) => ({
    name: 'tls',
    typed_config: packAny(DOWNSTREAM_TLS_TYPE_URL, { common_tls_context: {}, require_client_certificate: { value: require } }),
  });
  const raw = packAny(TYPE_URL.listener, {
    name: 'xds.istio.io/grpc/lds/inbound/10.0.0.1:8080',
    address: { socket_address: { address: '10.0.0.1', port_value: 8080 } },
    filter_chains: chains.map((c) => ({
      filters: [{ name: 'hcm', typed_config: packAny(TYPE_URL.httpConnectionManager, hcm) }],
      ...(c.tls ? { transport_socket: tls(c.requireClient ?? true) } : {}),
      ...(c.match ? { filter_chain_match: c.match } : {}),
    })),
  });
  return unpackAny(TYPE_URL.listener, raw.value);
}

const rbac = (config: Obj) => ({ name: 'rbac', typed_config: packAny(RBAC_TYPE_URL, config) });
const failure = (raw: Obj) => {
  try {
    decodeInboundListener(raw);
  } catch (err) {
    return (err as Error).message;
  }
  return 'decoded';
};

describe('inbound listener decoding', () => {
  it('reads istiod-style RBAC (string_match headers, principal regexes, not rules) into Istio fields', () => {
    const policy = {
      permissions: [
        {
          and_rules: {
            rules: [
              { or_rules: { rules: [{ header: { name: ':method', string_match: { exact: 'GET' } } }] } },
              { not_rule: { or_rules: { rules: [{ url_path: { path: { prefix: '/private/' } } }] } } },
            ],
          },
        },
      ],
      principals: [
        {
          and_ids: {
            ids: [
              { or_ids: { ids: [{ authenticated: { principal_name: { safe_regex: { regex: '.*/ns/prod/.*' } } } }] } },
              { or_ids: { ids: [{ header: { name: 'x-env', string_match: { prefix: 'eu-' } } }] } },
            ],
          },
        },
      ],
    };
    const decoded = decodeInboundListener(listener([rbac({ rules: { action: 'ALLOW', policies: { 'ns[shop]-policy[allow-prod]-rule[0]': policy } } })]));
    expect(decoded.authorizationPolicies).toEqual([
      {
        name: 'allow-prod',
        action: 'ALLOW',
        rules: [{ from: [{ namespaces: ['prod'] }], to: [{ methods: ['GET'], notPaths: ['/private/*'] }], when: [{ key: 'request.headers[x-env]', values: ['eu-*'] }] }],
      },
    ]);
    expect(decoded.mode).toBe('DISABLE');
  });

  it('makes an empty ALLOW filter an allow-nothing policy and shadow LOG rules AUDIT policies', () => {
    const any = { permissions: [{ any: true }], principals: [{ any: true }] };
    const decoded = decodeInboundListener(
      listener([rbac({ rules: { action: 'DENY', policies: {} }, shadow_rules: { action: 'LOG', policies: { watch: any } } }), rbac({ rules: { action: 'ALLOW', policies: {} } })]),
    );
    expect(decoded.authorizationPolicies).toEqual([
      { name: 'watch', action: 'AUDIT', rules: [{}] },
      { name: 'allow-nothing', action: 'ALLOW' },
    ]);
  });

  it('tells STRICT, PERMISSIVE and DISABLE apart by the chains', () => {
    expect(decodeInboundListener(listener([], [{ tls: true }])).mode).toBe('STRICT');
    expect(decodeInboundListener(listener([], [{ tls: true, match: { transport_protocol: 'tls' } }, { match: { transport_protocol: 'raw_buffer' } }])).mode).toBe('PERMISSIVE');
    expect(failure(listener([], [{ tls: true, requireClient: false }]))).toContain('require_client_certificate: must be true');
  });

  it('refuses what Istio policies cannot say, naming the field', () => {
    const policy = (permission: Obj, principal: Obj = { any: true }) => ({ rules: { action: 'DENY', policies: { p: { permissions: [permission], principals: [principal] } } } });
    expect(failure(listener([rbac(policy({ url_path: { path: { contains: 'admin' } } }))]))).toContain('policies["p"].permissions[0].url_path.path.contains');
    expect(failure(listener([rbac(policy({ any: true }, { authenticated: { principal_name: { safe_regex: { regex: 'spiffe://.*/sa/x' } } } }))]))).toContain(
      'principals[0].authenticated.principal_name.safe_regex',
    );
    expect(failure(listener([rbac(policy({ header: { name: 'x', exact_match: 'a', invert_match: true } }))]))).toContain('invert_match');
    expect(
      failure(listener([rbac({ rules: { action: 'ALLOW', policies: {} } }), rbac({ rules: { action: 'ALLOW', policies: {} } })])),
    ).toContain('a second ALLOW filter');
    expect(failure(listener([rbac(policy({ any: true }, { or_ids: { ids: [{ direct_remote_ip: { address_prefix: '10.0.0.0', prefix_len: { value: 8 } } }, { authenticated: {} }] } }))]))).toContain(
      'mixes attributes',
    );
    const lua = { name: 'lua', typed_config: { type_url: 'type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua', value: Buffer.alloc(0) } };
    expect(failure(listener([lua]))).toContain('not supported on an inbound listener');
    expect(failure(listener([], [{ match: { destination_port: { value: 80 } } }]))).toContain('filter_chain_match.destination_port');
  });

  it('refuses a jwt_authn requirement that makes a token mandatory', () => {
    const jwt = {
      name: 'jwt',
      typed_config: packAny(JWT_AUTHN_TYPE_URL, {
        providers: { 'shop/jwt/0': { issuer: 'https://issuer.example', remote_jwks: { http_uri: { uri: 'https://issuer.example/keys', cluster: 'x' } } } },
        rules: [{ match: { prefix: '/' }, requires: { provider_name: 'shop/jwt/0' } }],
      }),
    };
    expect(failure(listener([jwt]))).toContain('requires a token, which RequestAuthentication cannot say');
  });

  it('writes namespaces, service accounts and path templates in regexes it reads back', () => {
    expect(readPrincipalRegex('.*/ns/prod[^/]*/.*')).toEqual({ kind: 'namespace', pattern: 'prod*' });
    expect(readPrincipalRegex('spiffe://[^/]+/ns/shop/sa/front\\.end')).toEqual({ kind: 'serviceAccount', account: 'shop/front.end' });
    expect(readPrincipalRegex('.*/ns/(a|b)/.*')).toBeUndefined();
    for (const t of ['/api/{*}/items', '/static/{**}', '/v1.2/{*}']) expect(readPathTemplateRegex(pathTemplateRegex(t))).toBe(t);
    expect(new RegExp(`^${pathTemplateRegex('/api/{*}/items')}$`).test('/api/42/items')).toBe(true);
    expect(new RegExp(`^${pathTemplateRegex('/api/{*}/items')}$`).test('/api/4/2/items')).toBe(false);
    expect(readPathTemplateRegex('^/(admin|root)')).toBeUndefined();
  });
});
