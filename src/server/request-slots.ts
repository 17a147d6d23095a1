/**
 * Where the mesh keeps a request's state: on node's own request and
 * response objects, under two symbols.
 *
 * A WeakMap would do the same, but every request would add an ephemeron
 * entry that each young-generation GC has to trace (measured at several µs
 * of GC per request under load). So the exchange is a property of the
 * request, added when the request is admitted. The response's state
 * lives on responses built from the subclass below, which has its slot
 * from birth, counts its bytes in its own write/end and learns of its
 * close in its own emit: no per-response listener and no wrapped methods.
 *
 * Requests are node's own class. A request subclass with the slot from
 * birth cost more than adding the property later: V8 builds a derived
 * class through its generic construct stub and a derived map, which
 * bench:instructions put at +300 instructions per request against the
 * property added in serveHttp (docs/performance.md).
 *
 * On an application's own server, meshExpress puts the same hooks on the
 * app's response prototype once (hookResponsePrototype), and a Fastify app
 * created with `http: meshHttpOptions()` gets the response class itself.
 * Everything else (Fastify without that option, whose responses are node's
 * own class) falls back to a 'close' listener and wrapped write/end per
 * response (see http-inbound.ts).
 */
import { type IncomingMessage, ServerResponse } from 'node:http';

export const EXCHANGE = Symbol('proxyless.exchange');
export const SERVING = Symbol('proxyless.serving');
/** True on a response whose write, end and emit are the hooks below (its own, or its prototype's). */
export const HOOKED = Symbol('proxyless.hooked');

/** What a response's state must offer its response object. */
export interface ResponseSlot {
  /** True when response bytes are counted (metrics, access log or a requestEnd subscriber). */
  readonly counting: boolean;
  bytes: number;
  /**
   * The chunk end() was given, sized only if the response turns out to
   * have no Content-Length header (set with setHeader, as Express does):
   * sizing a string body walks it again after node or the framework did.
   */
  endChunk: unknown;
  /** The response closed (finished or cut off); called once. */
  closed(): void;
}

// Node's own, captured once: the hooks below call them after doing their part.
const nodeWrite = ServerResponse.prototype.write;
const nodeEnd = ServerResponse.prototype.end;
const nodeEmit = ServerResponse.prototype.emit;

/** Node constructs responses with options (highWaterMark, …) that @types/node does not declare. */
type ResponseClass = new <R extends IncomingMessage>(req: R, options?: object) => ServerResponse<R>;
const NodeServerResponse = ServerResponse as unknown as ResponseClass;

export class MeshServerResponse<R extends IncomingMessage = IncomingMessage> extends NodeServerResponse<R> {
  [SERVING]: ResponseSlot | undefined = undefined;
  readonly [HOOKED] = true;

  constructor(req: R, options?: object) {
    super(req, options);
    // Own properties from birth, not prototype overrides: Express gives every
    // response its own prototype (app.response), which would drop overrides.
    const own = this as unknown as ResponseHooks;
    own.write = countingWrite;
    own.end = countingEnd;
    own.emit = closingEmit;
  }
}

interface ResponseHooks {
  write: typeof countingWrite;
  end: typeof countingEnd;
  emit: typeof closingEmit;
}

type SlottedResponse = ServerResponse & { [SERVING]: ResponseSlot | undefined };

function countingWrite(this: SlottedResponse, chunk: unknown, encoding?: unknown, callback?: unknown): boolean {
  const slot = this[SERVING];
  if (slot?.counting === true) slot.bytes += sizeOf(chunk);
  return nodeWrite.call(this, chunk, encoding as BufferEncoding, callback as () => void);
}

function countingEnd(this: SlottedResponse, chunk?: unknown, encoding?: unknown, callback?: unknown): ServerResponse {
  const slot = this[SERVING];
  if (slot?.counting === true && typeof chunk !== 'function') slot.endChunk = chunk;
  return nodeEnd.call(this, chunk, encoding as BufferEncoding, callback as () => void);
}

// Node emits 'close' once per response, when it finished or when its connection went away first.
function closingEmit(this: SlottedResponse, event: string | symbol): boolean {
  if (event === 'close') {
    const slot = this[SERVING];
    if (slot !== undefined) {
      this[SERVING] = undefined;
      slot.closed();
    }
  }
  // biome-ignore lint/complexity/noArguments: V8 passes `arguments` straight through apply without building an array, on every emit of every response.
  return nodeEmit.apply(this, arguments as unknown as [string | symbol]);
}

/**
 * Options for `http.createServer` (or Fastify's `http` option) whose
 * responses are the mesh's class, as mesh.createServer() uses. Fastify's
 * replies wrap node's own response class, which the mesh must not patch;
 * with these options its responses count their bytes and see their close
 * themselves, and the per-response listener and wrapped write/end of the
 * fallback path go away. Anything else in `options` is kept.
 */
export function meshHttpOptions<T extends object = object>(options?: T): T & { ServerResponse: typeof ServerResponse } {
  return {
    ...(options as T),
    // @types/node wants node's class with its statics; node itself only calls `new` on it.
    ServerResponse: MeshServerResponse as unknown as typeof ServerResponse,
  };
}

const refused = new WeakSet<object>();

/**
 * Puts the hooks on a framework's own response prototype (Express's
 * `app.response`), once per app, so its responses need no listener or
 * wrapped methods either. Never on node's class itself, and only while the
 * prototype still has node's own write, end and emit (nobody else's
 * patches would be skipped). Returns false when it did not; a prototype
 * refused once is not looked at again.
 */
export function hookResponsePrototype(proto: object): boolean {
  if (refused.has(proto)) return false;
  if (proto === ServerResponse.prototype || !(proto instanceof ServerResponse) || proto.write !== nodeWrite || proto.end !== nodeEnd || proto.emit !== nodeEmit) {
    refused.add(proto);
    return false;
  }
  const method = (value: unknown) => ({ value, writable: true, configurable: true });
  Object.defineProperties(proto, {
    write: method(countingWrite),
    end: method(countingEnd),
    emit: method(closingEmit),
    [HOOKED]: { value: true, configurable: true },
  });
  return true;
}

export function sizeOf(chunk: unknown): number {
  if (typeof chunk === 'string') return Buffer.byteLength(chunk);
  if (chunk instanceof Uint8Array) return chunk.byteLength;
  return 0;
}
