/**
 * A client class whose methods measure their messages (grpc-wire-bytes.ts).
 *
 * grpc-js's client classes (`makeClientConstructor`, which proto-loader's
 * `loadPackageDefinition` and grpc-tools' generated code both use) bind
 * each method's serialize and deserialize functions when the class is
 * made, and hand them straight to the bottom of the interceptor chain. So
 * the mesh makes, once per class, a subclass whose methods are the same
 * `Client.prototype.make*Request` calls with those two functions wrapped:
 * `instanceof` the application's class still holds, and a call costs what
 * it did (grpc-js's own methods spread their arguments the same way).
 *
 * A method the application's class defines itself (overriding the
 * generated one) is left alone, so its messages are not measured.
 */
import { Client } from '@grpc/grpc-js';
import type { Deserialize, GrpcWireBytes, Serialize } from '../telemetry/grpc-wire-bytes.js';

/** A method of `Ctor.service`, as grpc-js and proto-loader describe it (only what is read here). */
interface ClientMethodLike {
  readonly path: string;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
  readonly requestSerialize: Serialize;
  readonly responseDeserialize: Deserialize;
  readonly originalName?: string | undefined;
}

type Requester = (this: Client, path: string, serialize: Serialize, deserialize: Deserialize, ...args: unknown[]) => unknown;

/** What `makeClientConstructor` builds: a Client subclass with its service definition. */
type ClientClass = (abstract new (...args: never[]) => Client) & { readonly service: Readonly<Record<string, unknown>> };

function requesterOf(m: ClientMethodLike): Requester {
  const p = Client.prototype;
  const fn = m.requestStream
    ? m.responseStream
      ? p.makeBidiStreamRequest
      : p.makeClientStreamRequest
    : m.responseStream
      ? p.makeServerStreamRequest
      : p.makeUnaryRequest;
  return fn as unknown as Requester;
}

function isClientMethod(value: unknown): value is ClientMethodLike {
  const m = value as Partial<ClientMethodLike> | undefined;
  return typeof m?.path === 'string' && typeof m.requestSerialize === 'function' && typeof m.responseDeserialize === 'function';
}

/** A subclass of `Ctor` whose generated methods note their messages' sizes in `wire`. */
export function meteredClientClass<C extends ClientClass>(Ctor: C, wire: GrpcWireBytes): C {
  // The subclass adds no constructor logic; it only replaces prototype methods.
  const Metered = class extends (Ctor as unknown as new (...args: unknown[]) => Client) {} as unknown as C;
  const base = Ctor.prototype as unknown as Record<string, unknown>;
  const proto = Metered.prototype as unknown as Record<string, unknown>;
  for (const [name, def] of Object.entries(Ctor.service)) {
    if (!isClientMethod(def)) continue;
    const generated = base[name];
    // Only grpc-js's own method (it carries the definition's path): an override of the application's stays.
    if (typeof generated !== 'function' || (generated as { path?: unknown }).path !== def.path) continue;
    const requester = requesterOf(def);
    const path = def.path;
    const serialize = wire.serializer(def.requestSerialize);
    const deserialize = wire.deserializer(def.responseDeserialize);
    const method = function (this: Client, ...args: unknown[]): unknown {
      return requester.call(this, path, serialize, deserialize, ...args);
    };
    // grpc-js puts the definition's attributes on each method (`client.getItem.path`); so does this one.
    Object.assign(method, def);
    proto[name] = method;
    const alias = def.originalName;
    if (alias !== undefined && alias !== name && base[alias] === generated) proto[alias] = method;
  }
  return Metered;
}
