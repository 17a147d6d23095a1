/**
 * The inventory service's handlers, with the mesh's decorators: a cap on
 * GetItem's deadline and a rate limit, and Reserve open only to callers in
 * the `shop` namespace. The proto is loaded with @grpc/proto-loader.
 */
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { Authorize, currentDeadline, type MeshRequestContext, meshContextOf, RateLimit, Timeout } from 'proxyless';

export interface Item {
  sku: string;
  stock: number;
  caller: string;
  budgetMs: number;
}

/** The `shop.Inventory` service definition, from inventory.proto. */
export function inventoryDefinition(): grpc.ServiceDefinition {
  const pkg = grpc.loadPackageDefinition(loadSync(fileURLToPath(new URL('./inventory.proto', import.meta.url)), { keepCase: false })) as unknown as {
    shop: { Inventory: grpc.ServiceClientConstructor };
  };
  return pkg.shop.Inventory.service;
}

type Unary<Req> = grpc.ServerUnaryCall<Req, Item>;

export class InventoryHandlers {
  readonly #stock = new Map([
    ['apple', 12],
    ['pear', 3],
  ]);

  @Timeout(1_000)
  @RateLimit({ maxTokens: 3, fillInterval: 60_000 })
  getItem(call: Unary<{ sku: string }>, callback: grpc.sendUnaryData<Item>) {
    callback(null, this.#item(call, call.request.sku));
  }

  @Authorize({ namespaces: ['shop'] })
  reserve(call: Unary<{ sku: string; quantity: number }>, callback: grpc.sendUnaryData<Item>) {
    const { sku, quantity } = call.request;
    this.#stock.set(sku, (this.#stock.get(sku) ?? 0) - quantity);
    callback(null, this.#item(call, sku));
  }

  #item(call: Unary<unknown>, sku: string): Item {
    const deadline = currentDeadline();
    return {
      sku,
      stock: this.#stock.get(sku) ?? 0,
      caller: callerOf(meshContextOf(call)),
      budgetMs: deadline === undefined ? 0 : Math.floor(deadline.at - performance.now()),
    };
  }
}

/** The caller as the mesh verified it. */
function callerOf(ctx: MeshRequestContext | undefined): string {
  if (ctx === undefined) return 'unknown (the call bypassed the mesh)';
  return ctx.peer.spiffeId ?? 'plaintext (no identity)';
}
