/** What the xDS client was told, for `mesh.xdsStatus()`, the admin `/config_dump` and metrics. */
import type { ResourceKind, TypeState } from './type-state.js';

export interface XdsTypeStatus {
  readonly typeUrl: string;
  /** The last version_info this client accepted ('' before the first). */
  readonly version: string;
  readonly acceptedAt: string | null;
  /** The last rejected response, with the message sent back in the NACK. */
  readonly lastNack: { readonly version: string; readonly nonce: string; readonly message: string; readonly at: string } | null;
  readonly subscribed: readonly string[];
  readonly received: readonly string[];
  /** Resources the control plane says do not exist (missing from a full response, or not sent within 15 s). */
  readonly absent: readonly string[];
}

export interface XdsStatus {
  readonly server: string;
  readonly nodeId: string;
  /** `connecting` (no answer yet), `connected`, `reconnecting` (backing off), `closed`. */
  readonly state: 'connecting' | 'connected' | 'reconnecting' | 'closed';
  readonly lastError: string | null;
  readonly streamsOpened: number;
  readonly types: Readonly<Record<ResourceKind, XdsTypeStatus>>;
}

export function typeStatus(s: TypeState<unknown>): XdsTypeStatus {
  return {
    typeUrl: s.typeUrl,
    version: s.version,
    acceptedAt: s.acceptedAt?.toISOString() ?? null,
    lastNack: s.lastNack === undefined ? null : { ...s.lastNack, at: s.lastNack.at.toISOString() },
    subscribed: [...s.names],
    received: [...s.resources.keys()],
    absent: [...s.absent],
  };
}
