/**
 * Security settings in the config model: this workload's identity and where
 * its certificate comes from (`mesh.security`), the inbound mTLS mode with
 * per-port overrides (Istio's PeerAuthentication), and the outbound TLS a
 * destination gets (Istio's DestinationRule `trafficPolicy.tls`).
 */
import { z } from 'zod';
import { duration, shown } from './fields.js';

const TRUST_DOMAIN = /^[a-z0-9._-]+$/;

export const trustDomainSchema = z
  .string()
  .min(1)
  .max(255)
  .regex(TRUST_DOMAIN, {
    error: (iss) => `${shown(iss.input)} is not a SPIFFE trust domain (lowercase letters, digits, ".", "-" and "_")`,
  });

export const MTLS_MODES = ['STRICT', 'PERMISSIVE', 'DISABLE'] as const;
const mtlsMode = z.enum(MTLS_MODES);

export const OUTBOUND_TLS_MODES = ['mutual', 'simple', 'disable'] as const;
const outboundMode = z.enum(OUTBOUND_TLS_MODES);

const spiffeIdSchema = z.string().regex(/^spiffe:\/\/[a-z0-9._-]+\/\S+$/, {
  error: (iss) => `${shown(iss.input)} is not a SPIFFE ID such as "spiffe://cluster.local/ns/default/sa/reviews"`,
});

const portKey = z.string().regex(/^\d{1,5}$/, { error: (iss) => `${shown(iss.input)} is not a port number` });

export const certificatesSchema = z.strictObject({
  /**
   * `files`: mounted cert/key/bundle (SPIRE, cert-manager or Istio layout);
   * `dev`: a development CA created on first use, for local runs;
   * `control-plane`: a CSR to the control plane's CA (`proxyless control-plane --ca-tokens`).
   */
  provider: z.enum(['files', 'dev', 'control-plane']),
  /** `control-plane`: the CA's `host:port` (else MESH_CA_ADDRESS, else the xDS server's address). */
  address: z.string().min(1).optional(),
  /** `control-plane`: the bootstrap token for the first certificate (else MESH_CA_TOKEN). */
  token: z.string().min(1).optional(),
  /** `control-plane`: a file holding the bootstrap token (else MESH_CA_TOKEN_FILE). */
  tokenFile: z.string().min(1).optional(),
  /** `files`: the mounted directory. `dev`: where the dev CA lives (default ~/.proxyless/dev-ca). */
  dir: z.string().min(1).optional(),
  /** Renew when this fraction of the certificate's lifetime has passed (default 0.5). */
  renewAt: z
    .number()
    .gt(0, { error: (iss) => `must be between 0 and 1 (exclusive), got ${shown(iss.input)}` })
    .lt(1, { error: (iss) => `must be between 0 and 1 (exclusive), got ${shown(iss.input)}` })
    .optional(),
  /** `dev` and `control-plane`: lifetime of issued workload certificates (default 24h; the control plane's CA may shorten it). */
  ttl: duration.optional(),
});

export const securitySettingsSchema = z.strictObject({
  /** Else MESH_TRUST_DOMAIN, else `cluster.local`. */
  trustDomain: trustDomainSchema.optional(),
  /** This workload's service account (else MESH_SERVICE_ACCOUNT, else `default`). */
  serviceAccount: z.string().min(1).max(253).optional(),
  certificates: certificatesSchema.optional(),
  /** Inbound mTLS, as Istio's PeerAuthentication: PERMISSIVE unless set. */
  mtls: z
    .strictObject({
      mode: mtlsMode.default('PERMISSIVE'),
      portLevelMtls: z.record(portKey, z.strictObject({ mode: mtlsMode })).optional(),
    })
    .optional(),
  /** Outbound TLS for services that set none (default `disable`). */
  outboundTls: outboundMode.optional(),
  /**
   * Verified JWTs remembered, so a repeat token skips its signature check
   * (Envoy's `jwt_cache_config`). A token is trusted without a new check
   * for at most `maxAge` and never past its `exp`.
   */
  jwtCache: z
    .strictObject({
      /** Tokens remembered at most (default 1000); 0 checks every token. */
      maxTokens: z.number().int().min(0).max(1_000_000).optional(),
      /** How long a verified token is trusted without a new check (default 5m). */
      maxAge: duration.optional(),
    })
    .optional(),
});

/** A destination's TLS, as DestinationRule `trafficPolicy.tls`. */
export const serviceTlsSchema = z.strictObject({
  mode: outboundMode,
  /** `mutual`: SPIFFE IDs the server may present; any in the trust domain when absent. */
  subjectAltNames: z.array(spiffeIdSchema).min(1).optional(),
  sni: z.string().min(1).optional(),
  /** `simple`: path to a PEM CA bundle to trust instead of the system's. */
  caCertificates: z.string().min(1).optional(),
});

export type SecuritySettings = z.output<typeof securitySettingsSchema>;
export type ServiceTls = z.output<typeof serviceTlsSchema>;
export type MtlsModeName = (typeof MTLS_MODES)[number];
