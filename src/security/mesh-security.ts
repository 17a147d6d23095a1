/**
 * One mesh's security state: this workload's identity, its certificate
 * provider (created from the first config that names one), and the TLS
 * material both sides use. The mesh applies each config here before its
 * destinations, so a destination asking for mTLS finds the certificate
 * source already in place.
 */
import { accessSync, constants } from 'node:fs';
import { ConfigError, type ConfigIssue } from '../config/config-error.js';
import type { Env } from '../config/env.js';
import type { MeshConfig } from '../config/schema.js';
import type { MtlsModeName } from '../config/security-schema.js';
import type { XdsBootstrap } from '../discovery/xds/bootstrap.js';
import { InboundGuard } from '../server/inbound-guard.js';
import type { MeshLogger } from '../telemetry/logger.js';
import { compileAuthorization } from './authz/compile.js';
import { ControlPlaneCertificateProvider } from './certs/control-plane-provider.js';
import { controlPlaneCaIssues, controlPlaneCaSettings } from './certs/control-plane-settings.js';
import { DevCaProvider } from './certs/dev-ca-provider.js';
import { FileCertificateProvider } from './certs/file-provider.js';
import type { CertificateProvider } from './certs/provider.js';
import { resolveWorkloadIdentity, type WorkloadIdentity } from './identity/workload-identity.js';
import { compileRequestAuthentication, type RequestAuthenticator } from './jwt/authenticator.js';
import { JwksCache } from './jwt/jwks-cache.js';
import { WorkloadTls } from './tls/workload-tls.js';

export interface InboundMtls {
  readonly mode: MtlsModeName;
  readonly portLevelMtls: Readonly<Record<number, MtlsModeName>>;
}

export class MeshSecurity {
  readonly #env: Env;
  readonly #logger: MeshLogger;
  /** The mesh's xDS server, when its xDS client is on: provider control-plane's default CA. */
  readonly #xds: XdsBootstrap | undefined;
  #identity: WorkloadIdentity | undefined;
  #provider: CertificateProvider | undefined;
  #tls: WorkloadTls | undefined;
  /** The certificates block the provider was built from; it cannot change while running. */
  #certificatesKey: string | undefined;
  #config: MeshConfig | undefined;
  #guard: InboundGuard | undefined;
  /** The request authenticator in the guard, and the inputs it was compiled from (JSON). */
  #authn: RequestAuthenticator | undefined;
  #authnKey: string | undefined;
  // One key cache for every policy version, so a config update keeps the keys already fetched.
  readonly #jwks: JwksCache;

  constructor(env: Env, logger: MeshLogger, xds?: XdsBootstrap) {
    this.#env = env;
    this.#logger = logger;
    this.#xds = xds;
    this.#jwks = new JwksCache({ logger });
  }

  /** Problems with a config's security settings, each with its path. */
  check(config: MeshConfig): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
    const sec = config.mesh.security;
    const hasCerts = sec?.certificates !== undefined;
    const key = JSON.stringify(sec?.certificates ?? null);
    if (this.#certificatesKey !== undefined && key !== this.#certificatesKey) {
      issues.push({
        path: 'mesh.security.certificates',
        message: 'cannot change while the mesh is running (the certificate source is chosen once, at start); restart to change it',
      });
    }
    if (hasCerts) {
      try {
        identityOf(config);
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        for (const i of err.issues) issues.push({ path: CONFIG_PATH_OF[i.path] ?? i.path, message: i.message });
      }
    }
    if (sec?.certificates?.provider === 'files') {
      // Files are issued elsewhere; lifetime and renewal are the issuer's to set.
      for (const field of ['renewAt', 'ttl'] as const) {
        if (sec.certificates[field] !== undefined) {
          issues.push({ path: `mesh.security.certificates.${field}`, message: 'applies to provider "dev" only: mounted files are renewed by whoever writes them' });
        }
      }
    }
    if (sec?.certificates !== undefined) issues.push(...controlPlaneCaIssues(sec.certificates, this.#env, this.#xds));
    if (sec?.certificates?.provider === 'files' && sec.certificates.dir === undefined) {
      issues.push({ path: 'mesh.security.certificates.dir', message: 'is required for provider "files": the directory the certificates are mounted in' });
    }
    if (!hasCerts && sec?.outboundTls === 'mutual') {
      issues.push({ path: 'mesh.security.outboundTls', message: '"mutual" needs a workload certificate: set mesh.security.certificates' });
    }
    const inbound = [sec?.mtls?.mode, ...Object.values(sec?.mtls?.portLevelMtls ?? {}).map((p) => p.mode)];
    if (!hasCerts && inbound.some((m) => m === 'STRICT' || m === 'PERMISSIVE')) {
      issues.push({
        path: 'mesh.security.mtls',
        message: 'STRICT and PERMISSIVE need a workload certificate: set mesh.security.certificates, or use mode DISABLE',
      });
    }
    for (const [name, svc] of Object.entries(config.services)) {
      if (svc.tls?.mode === 'mutual' && !hasCerts) {
        issues.push({ path: `services.${name}.tls.mode`, message: '"mutual" needs a workload certificate: set mesh.security.certificates' });
      }
      if (svc.tls?.mode === 'simple' && svc.tls.subjectAltNames !== undefined) {
        issues.push({ path: `services.${name}.tls.subjectAltNames`, message: 'applies to mode "mutual" only (SPIFFE IDs); "simple" verifies the server by its host name' });
      }
      const ca = svc.tls?.caCertificates;
      if (ca !== undefined && !readable(ca)) {
        issues.push({ path: `services.${name}.tls.caCertificates`, message: `cannot read ${JSON.stringify(ca)}` });
      }
    }
    return issues;
  }

  /** Take a validated, checked config; starts the certificate provider the first time one is named. */
  apply(config: MeshConfig): void {
    this.#config = config;
    this.#applyPolicies(config);
    const sec = config.mesh.security;
    if (sec?.certificates === undefined || this.#provider !== undefined) return;
    this.#certificatesKey = JSON.stringify(sec.certificates);
    const identity = identityOf(config);
    this.#identity = identity;
    const c = sec.certificates;
    const renewAt = c.renewAt !== undefined ? { renewAt: c.renewAt } : {};
    this.#provider =
      c.provider === 'control-plane'
        ? new ControlPlaneCertificateProvider({
            spiffeId: identity.spiffeId,
            ...controlPlaneCaSettings(c, this.#env, this.#xds),
            ...(c.ttl !== undefined ? { ttlMs: c.ttl } : {}),
            ...renewAt,
            logger: this.#logger,
          }).start()
        : c.provider === 'files'
        ? new FileCertificateProvider({
            dir: c.dir!,
            trustDomain: identity.trustDomain,
            // With an account named in config, material for any other identity is refused.
            ...(sec.serviceAccount !== undefined ? { spiffeId: identity.spiffeId } : {}),
            logger: this.#logger,
          }).start()
        : new DevCaProvider({
            spiffeId: identity.spiffeId,
            ...(c.dir !== undefined ? { dir: c.dir } : {}),
            ...(c.ttl !== undefined ? { workloadTtlMs: c.ttl } : {}),
            ...renewAt,
            logger: this.#logger,
          }).start();
    this.#tls = new WorkloadTls(this.#provider);
  }

  /**
   * Compile the policies that apply to this workload (its namespace and
   * labels). The request authenticator is kept while its inputs are
   * unchanged: every config update lands here (an xDS push, a file
   * reload), and a new authenticator would start with an empty cache of
   * verified tokens. A changed one is built before the old one is closed,
   * so JWKS keys already fetched carry over.
   */
  #applyPolicies(config: MeshConfig): void {
    const workload = { namespace: config.mesh.namespace, labels: config.mesh.labels ?? {} };
    const jwtCache = config.mesh.security?.jwtCache;
    const authnKey = JSON.stringify([config.requestAuthentications, workload, jwtCache ?? null]);
    const previousAuthn = this.#authn;
    const authn =
      authnKey === this.#authnKey
        ? previousAuthn
        : config.requestAuthentications.length > 0
          ? compileRequestAuthentication(config.requestAuthentications, {
              ...workload,
              jwks: this.#jwks,
              verifiedTokens: { maxTokens: jwtCache?.maxTokens, maxAgeMs: jwtCache?.maxAge },
            })
          : undefined;
    const authz = config.authorizationPolicies.length > 0 ? compileAuthorization(config.authorizationPolicies, workload) : undefined;
    const claimHeaders = new Set<string>();
    for (const policy of config.requestAuthentications) {
      for (const rule of policy.jwtRules) {
        if (rule.outputPayloadToHeader !== undefined) claimHeaders.add(rule.outputPayloadToHeader.toLowerCase());
        for (const c of rule.outputClaimToHeaders) claimHeaders.add(c.header.toLowerCase());
      }
    }
    this.#guard = new InboundGuard(authn, authz, [...claimHeaders]);
    this.#authn = authn;
    this.#authnKey = authnKey;
    if (previousAuthn !== authn) previousAuthn?.close();
  }

  /** Authentication and authorization for inbound requests, as of the current config. */
  guard(): InboundGuard | undefined {
    return this.#guard;
  }

  /** The workload certificate source, when the config names one. */
  workload(): WorkloadTls | undefined {
    return this.#tls;
  }

  /** True when no certificate is configured, or the configured one has loaded. */
  certificateLoaded(): boolean {
    return this.#tls === undefined || this.#tls.certificate() !== undefined;
  }

  /**
   * This workload's identity. With mounted files and no account in config,
   * it is whatever SPIFFE ID the certificate in force carries.
   */
  identity(): WorkloadIdentity | undefined {
    const cert = this.#tls?.certificate();
    if (cert !== undefined && cert.spiffeId !== this.#identity?.spiffeId) {
      const istio = /^spiffe:\/\/[^/]+\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(cert.spiffeId);
      return { trustDomain: cert.trustDomain, namespace: istio?.[1], serviceAccount: istio?.[2], spiffeId: cert.spiffeId };
    }
    return this.#identity;
  }

  /** MESH_TRUST_DOMAIN is not read here: the env layer already put it, trimmed and validated, into the config. */
  trustDomain(): string {
    return this.#identity?.trustDomain ?? this.#config?.mesh.security?.trustDomain ?? 'cluster.local';
  }

  /** Inbound mTLS modes: as configured, else PERMISSIVE with a certificate and DISABLE without (as Istio's default is PERMISSIVE). */
  inbound(): InboundMtls {
    const mtls = this.#config?.mesh.security?.mtls;
    const portLevelMtls: Record<number, MtlsModeName> = {};
    for (const [port, p] of Object.entries(mtls?.portLevelMtls ?? {})) portLevelMtls[Number(port)] = p.mode;
    return { mode: mtls?.mode ?? (this.#tls !== undefined ? 'PERMISSIVE' : 'DISABLE'), portLevelMtls };
  }

  /** Resolves once the workload certificate (if any) has loaded. */
  async ready(options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.#provider?.ready(options);
  }

  async close(): Promise<void> {
    this.#authn?.close();
    this.#jwks.close();
    await this.#provider?.close();
  }
}

/** Where each identity field comes from in the config, for messages. */
const CONFIG_PATH_OF: Readonly<Record<string, string>> = {
  'identity.trustDomain': 'mesh.security.trustDomain',
  'identity.namespace': 'mesh.namespace',
  'identity.serviceAccount': 'mesh.security.serviceAccount',
};

/** The identity a config names; env vars are already layered into it (MESH_TRUST_DOMAIN, MESH_SERVICE_ACCOUNT). */
function identityOf(config: MeshConfig): WorkloadIdentity {
  const sec = config.mesh.security;
  return resolveWorkloadIdentity(
    {
      ...(sec?.trustDomain !== undefined ? { trustDomain: sec.trustDomain } : {}),
      namespace: config.mesh.namespace,
      ...(sec?.serviceAccount !== undefined ? { serviceAccount: sec.serviceAccount } : {}),
    },
    {},
  );
}

function readable(path: string): boolean {
  try {
    accessSync(path, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}
