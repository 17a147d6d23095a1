/**
 * The inbound part of the `xds` config layer: the policies and mTLS mode a
 * server's inbound listener carries, in the config model's own words, so
 * they are validated and applied exactly like the same resources read from
 * a file, and replace (never add to) what lower layers say.
 */
import type { XdsInbound } from './decode-inbound-listener.js';

export function inboundLayer(
  mesh: Record<string, unknown> | undefined,
  inbound: XdsInbound,
): { mesh: Record<string, unknown>; authorizationPolicies: unknown[]; requestAuthentications: unknown[] } {
  const security = { ...((mesh?.security as Record<string, unknown> | undefined) ?? {}), mtls: { mode: inbound.mode } };
  return {
    mesh: { ...mesh, security },
    authorizationPolicies: inbound.authorizationPolicies,
    requestAuthentications: inbound.requestAuthentications,
  };
}

/** A config-layer message about inbound policy names the listener it came from. */
export function withInboundListener(message: string, inbound: string | undefined): string {
  if (inbound === undefined || !/authorizationPolicies|requestAuthentications|mesh\.security/.test(message)) return message;
  return `inbound listener "${inbound}": ${message}`;
}
