/**
 * RequestAuthentication → Envoy's jwt_authn HTTP filter config: one
 * provider per JWT rule, named `<namespace>/<policy>/<rule index>`, and one
 * requirement for every path that accepts a token from any provider or no
 * token at all, which is Istio's meaning (a request without a token passes
 * authentication; AuthorizationPolicy decides whether it needs one).
 *
 * gRPC servers have no jwt_authn filter (gRFC A41 covers RBAC only), so the
 * filter is marked optional for them to skip; proxyless servers enforce it.
 */
import type { RequestAuthenticationPolicy } from '../security/jwt/model.js';

type Obj = Record<string, unknown>;

/** Envoy requires a cluster for remote JWKS; proxyless fetches the URI itself and never reads it. */
const JWKS_CLUSTER = 'proxyless-jwks';

function duration(ms: number): Obj {
  return { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 };
}

export function jwtProviderName(namespace: string, policy: string, rule: number): string {
  return `${namespace}/${policy}/${rule}`;
}

/** The filter config for the policies that apply to one workload (already selected), or undefined when none has a rule. */
export function jwtAuthentication(policies: readonly RequestAuthenticationPolicy[]): Obj | undefined {
  const providers: Obj = {};
  for (const policy of policies) {
    policy.jwtRules.forEach((rule, i) => {
      const provider: Obj = {
        issuer: rule.issuer ?? '',
        audiences: [...rule.audiences],
        from_headers: rule.fromHeaders.map((h) => ({ name: h.name, value_prefix: h.prefix })),
        from_params: [...rule.fromParams],
        from_cookies: [...rule.fromCookies],
        forward: rule.forwardOriginalToken,
        forward_payload_header: rule.outputPayloadToHeader ?? '',
        claim_to_headers: rule.outputClaimToHeaders.map((c) => ({ header_name: c.header, claim_name: c.claim })),
        payload_in_metadata: rule.issuer ?? '',
      };
      if (rule.jwks !== undefined) provider.local_jwks = { inline_string: JSON.stringify(rule.jwks) };
      else if (rule.jwksUri !== undefined) {
        provider.remote_jwks = {
          http_uri: { uri: rule.jwksUri, cluster: JWKS_CLUSTER, timeout: duration(rule.timeoutMs ?? 5000) },
        };
      } else {
        // Keys by OpenID discovery from the issuer: Envoy has no field for it; the issuer URL tells proxyless where to look.
        provider.remote_jwks = { http_uri: { uri: '', cluster: JWKS_CLUSTER, timeout: duration(rule.timeoutMs ?? 5000) } };
      }
      providers[jwtProviderName(policy.namespace, policy.name, i)] = provider;
    });
  }
  const names = Object.keys(providers);
  if (names.length === 0) return undefined;
  return {
    providers,
    rules: [
      {
        match: { prefix: '/' },
        requires: { requires_any: { requirements: [...names.map((provider_name) => ({ provider_name })), { allow_missing: {} }] } },
      },
    ],
  };
}
