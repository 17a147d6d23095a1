/**
 * How many bytes each gRPC message took on the wire, for Istio's
 * `istio_request_bytes` / `istio_response_bytes` and the access log's
 * `bytes_received` / `bytes_sent`. Envoy counts an HTTP/2 body, and a gRPC
 * body is each message behind its 5-byte prefix (compressed flag, 32-bit
 * length): so a message counts its serialized length plus 5.
 *
 * grpc-js (de)serializes below every interceptor, so the mesh never sees a
 * buffer. Instead the method definitions' serialize and deserialize
 * functions are wrapped once, when a client class or a service is set up
 * (not per call): the wrapper notes the length it produced or consumed next
 * to the message it belongs to, and the call that sends or receives that
 * message takes the note. Nothing is serialized twice; a message costs one
 * comparison and an addition.
 *
 * Why a note keyed by the message object and not "the current call": a
 * serializer does not know which call runs it. What makes the handover
 * exact is when grpc-js runs it:
 * - sending (client and server) serializes synchronously inside grpc-js's
 *   own bottom `sendMessage`, which the mesh's interceptor calls directly
 *   (it is the last interceptor before grpc-js's call on both sides) and
 *   then takes the note;
 * - a client receives in the same synchronous step as the deserialization
 *   (grpc-js deserializes and at once calls the listener, the attempt);
 * - a server deserializes as data frames arrive but delivers when the
 *   handler reads, so another call's message may be deserialized in
 *   between: a note not taken yet moves to a WeakMap keyed by its message,
 *   and is found there on delivery (or collected with the message).
 */

/** grpc-js's serialize / deserialize function shapes. */
export type Serialize = (value: unknown) => Buffer;
export type Deserialize = (bytes: Buffer) => unknown;

/** The gRPC length prefix: 1 byte compressed flag, 4 bytes length. */
export const GRPC_FRAME_PREFIX = 5;

export class GrpcWireBytes {
  #sent: unknown;
  #sentBytes = 0;
  #received: unknown;
  #receivedBytes = 0;
  /** Received messages whose note was not taken before the next one came (server-side reads wait for the handler). */
  readonly #unread = new WeakMap<object, number>();

  /** `fn`, noting the size of each message it serializes. Made once per method, not per call. */
  serializer(fn: Serialize): Serialize {
    return (value) => {
      const bytes = fn(value);
      this.#sent = value;
      this.#sentBytes = bytes.length + GRPC_FRAME_PREFIX;
      return bytes;
    };
  }

  /** `fn`, noting the size of each message it deserializes. Made once per method, not per call. */
  deserializer(fn: Deserialize): Deserialize {
    return (bytes) => {
      const value = fn(bytes);
      const held = this.#received;
      if (this.#receivedBytes !== 0 && typeof held === 'object' && held !== null) {
        this.#unread.set(held, this.#receivedBytes);
      }
      this.#received = value;
      this.#receivedBytes = bytes.length + GRPC_FRAME_PREFIX;
      return value;
    };
  }

  /** The wire size of `message` if it is the one just serialized (0 if serialization did not run); call right after sending it. */
  takeSent(message: unknown): number {
    if (message !== this.#sent) return 0;
    const n = this.#sentBytes;
    this.#sent = undefined;
    this.#sentBytes = 0;
    return n;
  }

  /** The wire size of a received `message`, once: 0 when it was not deserialized by a wrapped function. */
  takeReceived(message: unknown): number {
    if (message === this.#received) {
      const n = this.#receivedBytes;
      this.#received = undefined;
      this.#receivedBytes = 0;
      return n;
    }
    if (typeof message !== 'object' || message === null) return 0;
    const n = this.#unread.get(message);
    if (n === undefined) return 0;
    this.#unread.delete(message);
    return n;
  }
}
