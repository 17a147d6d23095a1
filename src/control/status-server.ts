/**
 * The control plane's HTTP status endpoint (default 127.0.0.1:15014, the
 * port istiod uses for monitoring):
 *
 *   GET /status       snapshot version, resource names per type, the last
 *                     rejected config, and every connected client with what
 *                     it subscribed to, was sent, ACKed and NACKed
 *   GET /config_dump  every resource served, decoded to Envoy's JSON form
 *   GET /healthz      200 once serving
 *
 * Bound to loopback it answers only loopback Host names (DNS rebinding).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostAllowed } from '../admin/host-guard.js';
import { messageType, typeNameOf } from '../discovery/xds/envoy-protos.js';
import type { ControlPlane } from './control-plane.js';

export interface StatusServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startStatusServer(cp: ControlPlane, host: string, port: number): Promise<StatusServer> {
  const server: Server = createServer((req, res) => {
    if (!hostAllowed(host, req.headers.host)) {
      res.writeHead(403).end('forbidden host\n');
      return;
    }
    const path = (req.url ?? '/').split('?')[0];
    const send = (body: unknown) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(`${JSON.stringify(body, null, 2)}\n`);
    };
    if (req.method !== 'GET') res.writeHead(405, { allow: 'GET' }).end();
    else if (path === '/status') send(cp.status());
    else if (path === '/config_dump') send(configDump(cp));
    else if (path === '/healthz') res.writeHead(200).end('ok\n');
    else res.writeHead(404).end('not found: try /status, /config_dump or /healthz\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Every served resource as JSON; nested `Any`s are expanded (protobufjs prints them with "@type"). */
export function configDump(cp: ControlPlane): Record<string, unknown> {
  const s = cp.snapshot;
  const resources: Record<string, Record<string, unknown>> = {};
  for (const [type, map] of s.resources) {
    const decoder = messageType(typeNameOf(type));
    resources[type] = Object.fromEntries(
      [...map.values()].map((r) => [r.name, decoder.toObject(decoder.decode(r.any.value), { json: true, enums: String, longs: String })]),
    );
  }
  return { version: s.version, typeVersions: Object.fromEntries(s.typeVersions), resources };
}
