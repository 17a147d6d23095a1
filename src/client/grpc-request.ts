/**
 * A gRPC call as the protocol-neutral pipeline sees it: a POST to
 * `/package.Service/Method` whose headers are the call's metadata, so the
 * same route matches (path, header, method), hash policies and telemetry
 * serve both protocols.
 */
import type { Metadata } from '@grpc/grpc-js';
import type { CallRequest } from './call-types.js';

export class GrpcRequestView implements CallRequest {
  readonly path: string;
  readonly authority: string;
  readonly metadata: Metadata;
  replayBlocker: string | undefined;
  readonly #idempotent: boolean;
  #headers: Record<string, unknown> | undefined;

  constructor(path: string, authority: string, metadata: Metadata, idempotent: boolean, clientStreaming: boolean) {
    this.path = path;
    this.authority = authority;
    this.metadata = metadata;
    this.#idempotent = idempotent;
    // A request stream goes out as it is written; the mesh keeps no copy to send again.
    this.replayBlocker = clientStreaming ? 'body-not-replayable' : undefined;
  }

  get method(): string {
    return 'POST';
  }

  get protocol(): 'grpc' {
    return 'grpc';
  }

  get scheme(): string {
    return 'http';
  }

  header(lowerName: string): string | undefined {
    const values = this.metadata.get(lowerName);
    if (values.length === 0) return undefined;
    const v = values[0];
    return typeof v === 'string' ? v : v?.toString('latin1');
  }

  /** The metadata as a record, for hash policies (read only by ring hash and maglev). */
  get headers(): unknown {
    this.#headers ??= this.metadata.getMap();
    return this.#headers;
  }

  /**
   * gRPC has no idempotent verbs: every call is a POST. A method the proto
   * (or a decorator) marks IDEMPOTENT or NO_SIDE_EFFECTS counts as a POST
   * that carries an Idempotency-Key, so retries and hedges treat it as
   * safe; so does a call that sends that key in its metadata.
   */
  get hasIdempotencyKey(): boolean {
    return this.#idempotent || this.metadata.get('idempotency-key').length > 0;
  }
}
