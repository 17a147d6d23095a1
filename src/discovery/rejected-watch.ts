/**
 * The watch a provider returns for a target its validate() would reject
 * (config checks normally stop it earlier): it reports the reason once, on
 * a later tick as the contract asks, and never delivers endpoints.
 */
import { MeshError } from '../errors.js';
import type { DiscoveryTarget, EndpointListener, EndpointWatch } from './source.js';

export function rejectedWatch(target: DiscoveryTarget, reason: string, listener: EndpointListener, onClose?: () => void): EndpointWatch {
  let open = true;
  queueMicrotask(() => {
    if (!open) return;
    listener.error(
      new MeshError('MESH_DISCOVERY_FAILED', `service "${target.service}": ${target.uri} ${reason}`, {
        retryable: false,
        details: { service: target.service, uri: target.uri, reason },
      }),
    );
  });
  return {
    close() {
      if (open) onClose?.();
      open = false;
    },
  };
}
