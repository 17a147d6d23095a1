/**
 * A set of Istio security resources that uses every field the inbound
 * translation writes (DENY, ALLOW and AUDIT; principals, namespaces,
 * service accounts, IP blocks, request principals, hosts, methods, paths
 * and path templates, ports, header and claim conditions), for the round
 * trip and for the peers that must accept the listener it becomes.
 */
export function richPolicies(app: string): string {
  return `
mesh: { namespace: shop, labels: { app: ${app} } }
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: deny-admin, namespace: shop }
spec:
  action: DENY
  rules:
  - to: [{ operation: { paths: ["/admin*"], notMethods: [GET] } }]
  - when: [{ key: "request.headers[x-env]", values: [staging, "dev*"] }]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: deny-net, namespace: istio-system }
spec:
  action: DENY
  rules:
  - from: [{ source: { ipBlocks: ["10.9.0.0/16"], notPrincipals: ["cluster.local/ns/ops/sa/admin"] } }]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: allow-callers, namespace: shop }
spec:
  selector: { matchLabels: { app: ${app} } }
  rules:
  - from: [{ source: { principals: ["cluster.local/ns/shop/sa/frontend"] } }, { source: { namespaces: ["prod*"] } }]
    to: [{ operation: { methods: [GET, POST], paths: ["/api/{*}/items", "/health"], ports: ["8080"] } }]
  - from: [{ source: { serviceAccounts: [batch] } }]
    to: [{ operation: { hosts: [reviews.shop.svc.cluster.local] } }]
    when: [{ key: source.ip, notValues: ["192.168.0.0/16"] }]
  - from: [{ source: { requestPrincipals: ["https://issuer.example/*"] } }]
    when: [{ key: "request.auth.claims[role]", values: [admin] }]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: audit-all, namespace: shop }
spec:
  action: AUDIT
  rules: [{ to: [{ operation: { paths: ["/api/*"] } }] }]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: other-app, namespace: shop }
spec:
  selector: { matchLabels: { app: ratings } }
  rules: [{}]
`;
}
