/**
 * The authorization model: Istio's AuthorizationPolicy after validation,
 * whichever format it was written in (an Istio resource or our compact
 * form). Field names are Istio's, so the two formats map field for field.
 *
 * Validated once by parse.ts; compile.ts trusts these values.
 */

/** CUSTOM (external authorization) is rejected at validation, so it never reaches the model. */
export type AuthzAction = 'ALLOW' | 'DENY' | 'AUDIT';

/** Who sent the request. Fields are ANDed; values in one field are ORed. */
export interface AuthzSource {
  /** Peer SPIFFE IDs without `spiffe://`, e.g. `cluster.local/ns/default/sa/sleep`. */
  readonly principals?: readonly string[];
  readonly notPrincipals?: readonly string[];
  /** JWT `iss/sub`. */
  readonly requestPrincipals?: readonly string[];
  readonly notRequestPrincipals?: readonly string[];
  /** Taken from the peer's principal (`…/ns/<namespace>/…`). */
  readonly namespaces?: readonly string[];
  readonly notNamespaces?: readonly string[];
  /** `name` or `namespace/name`; a bare name is in the policy's namespace. */
  readonly serviceAccounts?: readonly string[];
  readonly notServiceAccounts?: readonly string[];
  /** Single IPs or CIDRs, IPv4 or IPv6, against the peer address. */
  readonly ipBlocks?: readonly string[];
  readonly notIpBlocks?: readonly string[];
  /** Against the original client address (X-Forwarded-For, where trusted). */
  readonly remoteIpBlocks?: readonly string[];
  readonly notRemoteIpBlocks?: readonly string[];
}

/** What the request does. Fields are ANDed; values in one field are ORed. */
export interface AuthzOperation {
  /** Case-insensitive; a value without a port also matches `host:port`. */
  readonly hosts?: readonly string[];
  readonly notHosts?: readonly string[];
  readonly ports?: readonly number[];
  readonly notPorts?: readonly number[];
  /** Upper case; gRPC requests are always POST. */
  readonly methods?: readonly string[];
  readonly notMethods?: readonly string[];
  /** Without the query string; `*` wildcards or `{*}`/`{**}` templates. */
  readonly paths?: readonly string[];
  readonly notPaths?: readonly string[];
}

/** A `when` condition on one attribute (see when-key.ts for the keys). */
export interface AuthzCondition {
  readonly key: string;
  readonly values?: readonly string[];
  readonly notValues?: readonly string[];
}

/**
 * One rule: `from` (any entry), `to` (any entry) and every `when` must all
 * match. A missing part matches anything, so `{}` matches every request.
 */
export interface AuthzRule {
  readonly from?: readonly AuthzSource[];
  readonly to?: readonly AuthzOperation[];
  readonly when?: readonly AuthzCondition[];
}

export interface AuthorizationPolicy {
  readonly name: string;
  /** Undefined: the namespace of the workload it is compiled for. */
  readonly namespace: string | undefined;
  readonly action: AuthzAction;
  /** matchLabels; undefined or empty selects every workload in scope. */
  readonly selector: Readonly<Record<string, string>> | undefined;
  /**
   * Undefined means the policy never matches: an ALLOW policy without rules
   * is Istio's allow-nothing. `[{}]` matches everything.
   */
  readonly rules: readonly AuthzRule[] | undefined;
}

/** The workload a policy set is compiled for. */
export interface AuthzWorkload {
  readonly namespace: string;
  readonly labels?: Readonly<Record<string, string>>;
  /** Policies here apply mesh-wide. Default `istio-system`, as in Istio. */
  readonly rootNamespace?: string;
}

export const DEFAULT_ROOT_NAMESPACE = 'istio-system';
