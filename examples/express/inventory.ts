// A stand-in "inventory" service for the framework examples to call.
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export async function startInventory(): Promise<{ address: string; close: () => void }> {
  const server = createServer((req, res) => {
    const id = req.url?.split('/').pop() ?? '';
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ id, inStock: Number(id) % 2 === 0 ? 0 : 7, deadlineMs: req.headers['x-mesh-timeout-ms'] ?? null }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}
