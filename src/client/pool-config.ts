/**
 * A destination's endpoint-pool settings: connection limits and timeouts
 * merged mesh → service field by field, and the outbound TLS the service
 * gets (its own `tls`, else the mesh's `security.outboundTls`). Pools are
 * built with these settings, so a change must reach new pools: `update`
 * says when the effective settings changed, and the destination then
 * replaces its endpoints' pools (the old ones drain).
 */
import { readFileSync } from 'node:fs';
import type { MeshSettings, ServiceConfig } from '../config/schema.js';
import type { ServiceTls } from '../config/security-schema.js';
import { type ClientTlsSource, TransportSecurity } from '../security/tls/transport-security.js';
import type { EndpointPoolSettings, PoolSettings } from './upstream.js';

/** What the mesh offers destinations for mTLS: its workload certificate, when it has one. */
export interface OutboundTlsContext {
  workload(): ClientTlsSource | undefined;
  trustDomain(): string;
}

export class PoolConfig {
  #key: string | undefined;
  #settings: EndpointPoolSettings = {};
  #security: TransportSecurity | undefined;

  get settings(): EndpointPoolSettings {
    return this.#settings;
  }

  /** Recompute; true when the effective settings differ from the last ones. */
  update(service: ServiceConfig, mesh: MeshSettings, base: PoolSettings, tlsContext: OutboundTlsContext | undefined): boolean {
    const cp = { ...mesh.connectionPool, ...service.connectionPool };
    const tls = effectiveTls(service, mesh);
    const key = JSON.stringify([cp.maxConnections, cp.connectTimeout, cp.maxRequestsPerConnection, cp.idleTimeout, cp.tcpKeepalive?.time, tls]);
    if (key === this.#key) return false;
    const first = this.#key === undefined;
    this.#key = key;
    this.#security?.close();
    this.#security = tls === undefined ? undefined : makeSecurity(tls, tlsContext);
    this.#settings = {
      ...base,
      ...(cp.maxConnections !== undefined ? { connections: cp.maxConnections } : {}),
      ...(cp.connectTimeout !== undefined ? { connectTimeout: cp.connectTimeout } : {}),
      ...(cp.maxRequestsPerConnection !== undefined ? { maxRequestsPerConnection: cp.maxRequestsPerConnection } : {}),
      ...(cp.idleTimeout !== undefined ? { idleTimeout: cp.idleTimeout } : {}),
      ...(cp.tcpKeepalive?.time !== undefined ? { keepAliveProbeDelay: cp.tcpKeepalive.time } : {}),
      ...(this.#security !== undefined ? { security: this.#security } : {}),
    };
    return !first;
  }

  close(): void {
    this.#security?.close();
  }
}

function effectiveTls(service: ServiceConfig, mesh: MeshSettings): ServiceTls | undefined {
  const tls = service.tls ?? (mesh.security?.outboundTls !== undefined ? { mode: mesh.security.outboundTls } : undefined);
  return tls === undefined || tls.mode === 'disable' ? undefined : tls;
}

function makeSecurity(tls: ServiceTls, context: OutboundTlsContext | undefined): TransportSecurity {
  if (tls.mode === 'mutual') {
    // The config check refuses `mutual` without a certificate source, so a
    // missing workload here is a bug, and TransportSecurity says so.
    const workload = context?.workload();
    return new TransportSecurity({
      mode: 'mutual',
      ...(workload !== undefined ? { workload } : {}),
      ...(context !== undefined ? { trustDomain: context.trustDomain() } : {}),
      ...(tls.subjectAltNames !== undefined ? { identities: tls.subjectAltNames } : {}),
      ...(tls.sni !== undefined ? { sni: tls.sni } : {}),
    });
  }
  return new TransportSecurity({
    mode: 'simple',
    ...(tls.sni !== undefined ? { sni: tls.sni } : {}),
    // Checked readable by the config check; read once per config change.
    ...(tls.caCertificates !== undefined ? { ca: readFileSync(tls.caCertificates, 'utf8') } : {}),
  });
}
