/**
 * One ADS stream to the control plane at a time, over one grpc-js channel
 * for the client's life. When a stream ends the transport waits (jittered
 * exponential backoff, unref'd timer) and opens the next; the old stream's
 * listeners are removed and it is cancelled first, so repeated reconnects
 * leave nothing behind (grpc-node #2892 was a long-lived xDS client leaking
 * exactly there).
 */

import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { type BackoffConfig, backoffDelay } from '../../resilience/backoff.js';
import type { XdsBootstrap } from './bootstrap.js';
import { adsPackageDefinition } from './envoy-protos.js';

export interface AnyMessage {
  readonly type_url: string;
  readonly value: Uint8Array;
}

export interface DiscoveryResponse {
  readonly version_info: string;
  readonly resources: readonly AnyMessage[];
  readonly type_url: string;
  readonly nonce: string;
}

export interface DiscoveryRequest {
  version_info: string;
  node?: Record<string, unknown>;
  resource_names: string[];
  type_url: string;
  response_nonce: string;
  error_detail?: { code: number; message: string };
}

export interface TransportHandlers {
  /** A new stream is open: send every subscription on it. */
  onStreamStart(): void;
  onResponse(response: DiscoveryResponse): void;
  /** The stream ended; the transport reconnects after `delayMs`. */
  onStreamEnd(reason: string, delayMs: number): void;
}

export const DEFAULT_BACKOFF: BackoffConfig = { baseMs: 1000, maxMs: 30_000 };

type AdsStream = grpc.ClientDuplexStream<DiscoveryRequest, DiscoveryResponse>;
type AdsClient = grpc.Client & { StreamAggregatedResources(): AdsStream };

function credentials(b: XdsBootstrap): grpc.ChannelCredentials {
  if (b.creds.type === 'insecure') return grpc.credentials.createInsecure();
  const read = (f: string | undefined) => (f === undefined ? null : readFileSync(f));
  return grpc.credentials.createSsl(read(b.creds.caFile), read(b.creds.keyFile), read(b.creds.certFile));
}

export class AdsTransport {
  readonly #handlers: TransportHandlers;
  readonly #backoff: BackoffConfig;
  readonly #client: AdsClient;
  #stream: AdsStream | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** Failed streams in a row; reset when a stream delivers a response. */
  #failures = 0;
  #closed = false;
  #streamsOpened = 0;

  constructor(bootstrap: XdsBootstrap, handlers: TransportHandlers, backoff: BackoffConfig = DEFAULT_BACKOFF) {
    this.#handlers = handlers;
    this.#backoff = backoff;
    const pkg = grpc.loadPackageDefinition(adsPackageDefinition()) as unknown as {
      envoy: { service: { discovery: { v3: { AggregatedDiscoveryService: grpc.ServiceClientConstructor } } } };
    };
    const Ctor = pkg.envoy.service.discovery.v3.AggregatedDiscoveryService;
    this.#client = new Ctor(bootstrap.serverUri, credentials(bootstrap), {
      // Notice a silently dead control plane (no FIN), as grpc-go's xDS client does: every 5 minutes,
      // which servers' ping enforcement (often 5 minutes without data) accepts.
      'grpc.keepalive_time_ms': 300_000,
      'grpc.keepalive_timeout_ms': 20_000,
      // Big meshes send CDS and EDS responses past grpc-js's 4 MiB default.
      'grpc.max_receive_message_length': -1,
      // The channel's own reconnect backoff follows ours, or it would hold a stream back for up to 2 minutes.
      'grpc.initial_reconnect_backoff_ms': backoff.baseMs,
      'grpc.max_reconnect_backoff_ms': backoff.maxMs,
    }) as unknown as AdsClient;
  }

  /** Streams opened so far (for status views and leak tests). */
  get streamsOpened(): number {
    return this.#streamsOpened;
  }

  /** Listener count on the live stream (leak tests). */
  get streamListenerCount(): number {
    const s = this.#stream;
    return s === undefined ? 0 : s.eventNames().reduce((n, e) => n + s.listenerCount(e), 0);
  }

  start(): void {
    if (this.#closed || this.#stream !== undefined) return;
    this.#open();
  }

  send(request: DiscoveryRequest): void {
    this.#stream?.write(request);
  }

  #open(): void {
    this.#timer = undefined;
    const stream = this.#client.StreamAggregatedResources();
    this.#stream = stream;
    this.#streamsOpened++;
    let ended = false;
    const end = (reason: string) => {
      if (ended) return;
      ended = true;
      this.#release(stream);
      if (this.#stream === stream) this.#stream = undefined;
      if (this.#closed) return;
      this.#failures++;
      const delay = backoffDelay(this.#failures, this.#backoff, Math.random());
      this.#timer = setTimeout(() => this.#open(), delay);
      this.#timer.unref();
      this.#handlers.onStreamEnd(reason, delay);
    };
    stream.on('data', (response: DiscoveryResponse) => {
      if (ended) return;
      this.#failures = 0;
      this.#handlers.onResponse(response);
    });
    stream.on('error', (err: grpc.ServiceError) => end(err.details || err.message));
    stream.on('end', () => end('the control plane closed the stream'));
    this.#handlers.onStreamStart();
  }

  #release(stream: AdsStream): void {
    stream.removeAllListeners();
    // grpc-js may still emit the status as an error after cancel(); keep one sink for it.
    stream.on('error', () => {});
    stream.cancel();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const stream = this.#stream;
    this.#stream = undefined;
    if (stream !== undefined) this.#release(stream);
    this.#client.close();
  }
}
