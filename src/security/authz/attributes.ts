/**
 * The request as the authorization engine sees it. The HTTP server, the gRPC
 * server and the framework adapters each build one per request; it is a
 * plain object with a header lookup, so building it costs nothing beyond the
 * values the adapter already has.
 */
export interface AuthzRequest {
  /**
   * The peer's SPIFFE ID from its verified certificate, without `spiffe://`
   * (`cluster.local/ns/default/sa/sleep`); a leading `spiffe://` is
   * tolerated. Undefined for a plaintext peer: then `principals`,
   * `namespaces` and `serviceAccounts` never match, and their `not*` forms
   * always do (as Envoy's RBAC treats a connection without a peer
   * certificate).
   */
  readonly principal?: string;
  /** The verified JWT's `iss/sub`; undefined without one. */
  readonly requestPrincipal?: string;
  /**
   * The verified JWT's claims. `request.auth.audiences` reads `aud`,
   * `request.auth.presenter` reads `azp`.
   */
  readonly claims?: Readonly<Record<string, unknown>>;
  /** The peer's address (`ipBlocks`, `source.ip`). IPv4-mapped IPv6 counts as IPv4. */
  readonly sourceIp: string;
  /**
   * The original client's address (`remoteIpBlocks`, `remote.ip`), taken
   * from X-Forwarded-For by the adapter where proxies are trusted.
   * Defaults to `sourceIp`, as Envoy's remote address does without XFF.
   */
  readonly remoteIp?: string;
  /** The local address the request arrived on (`destination.ip`). */
  readonly destinationIp?: string;
  /** The TLS server name the peer asked for (`connection.sni`). */
  readonly sni?: string;
  /** Upper case, as sent. gRPC adapters pass POST, as Istio does. */
  readonly method: string;
  /**
   * The request path, already normalized by the adapter. A `?query` or
   * `#fragment` may stay on: matching stops before it. For gRPC,
   * `/package.Service/Method`.
   */
  readonly path: string;
  /** Host or :authority, with or without a port. Compared case-insensitively. */
  readonly host: string;
  /** The local port the request arrived on (`ports`, `destination.port`). */
  readonly port: number;
  /**
   * A request header by lower-case name; several values joined with ",", as
   * Envoy sees them. Only called when a policy has a header condition.
   */
  header(lowerName: string): string | undefined;
}
