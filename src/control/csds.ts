/**
 * CSDS (envoy.service.status.v3): what each connected client subscribed to,
 * was sent, and acknowledged or refused, in the standard shape that tools
 * such as `grpcdebug` read. The same facts as the HTTP status endpoint.
 */
import type { Snapshot } from './snapshot.js';
import type { ClientStatus } from './xds-stream.js';

export function clientStatusResponse(clients: readonly ClientStatus[], snapshot: Snapshot): Record<string, unknown> {
  return {
    config: clients.map((client) => ({
      node: { id: client.nodeId, cluster: client.cluster },
      client_scope: '',
      generic_xds_configs: client.subscriptions.flatMap((sub) => {
        const names = sub.wildcard ? [...(snapshot.resources.get(sub.typeUrl as never)?.keys() ?? [])] : sub.names;
        return names.map((name) => {
          const sent = sub.sent.includes(name);
          const nacked = sub.lastNack !== undefined && sub.lastNack.version === sub.sentVersion;
          const entry: Record<string, unknown> = {
            type_url: sub.typeUrl,
            name,
            version_info: sub.ackedVersion ?? '',
            client_status: !sent ? 'DOES_NOT_EXIST' : nacked ? 'NACKED' : sub.ackedVersion === sub.sentVersion ? 'ACKED' : 'REQUESTED',
          };
          if (nacked) entry.error_state = { details: sub.lastNack!.message, version_info: sub.lastNack!.version };
          return entry;
        });
      }),
    })),
  };
}
