/**
 * examples/express, examples/fastify and examples/nest run as users would
 * run them, and print what their comments promise: the handler's call to
 * another service with meshFetch (the caller's deadline passed on), route
 * template labels, and a drain that closes the framework's own listener.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';

const run = promisify(execFile);

for (const framework of ['express', 'fastify', 'nest']) {
  test(`examples/${framework} serves through the mesh, calls inventory with meshFetch, labels by route and drains`, async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', `examples/${framework}/main.ts`], {
      timeout: 30_000,
      env: { ...process.env, MESH_SERVICES: '', MESH_CONFIG_FILE: '', MESH_SERVICE_NAME: '' },
    });
    const lines = stdout.trim().split('\n');
    const products = lines.filter((l) => l.startsWith('GET /products/'));
    expect(products).toHaveLength(3);
    for (const [i, line] of products.entries()) {
      const body = JSON.parse(line.slice(line.indexOf('{')));
      expect(body).toMatchObject({ id: String(i + 1), inStock: i === 1 ? 0 : 7, caller: 'plaintext (no identity)' });
      // The 2000 ms the caller gave, less what had passed: the deadline travelled through the handler.
      expect(body.inventoryBudgetMs).toBeGreaterThan(0);
      expect(body.inventoryBudgetMs).toBeLessThanOrEqual(2000);
    }
    expect(lines).toContain('GET /nope -> 404');
    expect(lines).toContain('proxyless_inbound_requests_total{route="/products/:id",method="GET",response_code="200"} 3');
    expect(lines).toContain('proxyless_inbound_requests_total{route="unmatched",method="GET",response_code="404"} 1');
    expect(lines.at(-1)).toBe('drained: listening=false');
  }, 40_000);
}
