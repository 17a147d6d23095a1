/**
 * The SDK's ParentBasedSampler, decided the same way (a valid parent's
 * sampled flag, remote or local, picks the delegate; no valid parent means
 * the root sampler), with one difference: the parent's span context is
 * checked with the mesh's isSpanContextValidFast instead of the api's
 * isSpanContextValid.
 *
 * Why: every span with a parent, the SERVER span of a traced request and
 * each CLIENT span under it, runs that check. The api's reads both IDs
 * through a lookup table and compares each with the all-zero ID, which
 * takes a runtime call when an ID is a slice (as extracted and pooled IDs
 * are):
 * about 2,200 instructions a span, 4,400 a request in a service that
 * serves a traced request and makes one call (`npm run bench:instructions
 * -- --services quiet,otel`). Span contexts the mesh made from checked IDs
 * pass the fast check without reading the IDs again; any other goes
 * through the api's check, so the answer is the api's.
 *
 * proxyless/otel builds this for the `parentbased_*` values of
 * OTEL_TRACES_SAMPLER (and its default); a sampler passed as an option is
 * used as it is.
 */
import { type Attributes, type Context, diag, type Link, type SpanKind, TraceFlags, trace } from '@opentelemetry/api';
import { AlwaysOffSampler, AlwaysOnSampler, type Sampler, type SamplingResult } from '@opentelemetry/sdk-trace-node';
import { isSpanContextValidFast } from '../telemetry/tracing/hex.js';

/** The SDK's ParentBasedSampler options: `root` for spans without a valid parent, the rest by the parent's kind and flag. */
export interface ParentBasedConfig {
  readonly root: Sampler | undefined;
  readonly remoteParentSampled?: Sampler | undefined;
  readonly remoteParentNotSampled?: Sampler | undefined;
  readonly localParentSampled?: Sampler | undefined;
  readonly localParentNotSampled?: Sampler | undefined;
}

export class ParentBasedSampler implements Sampler {
  readonly #root: Sampler;
  readonly #remoteSampled: Sampler;
  readonly #remoteNotSampled: Sampler;
  readonly #localSampled: Sampler;
  readonly #localNotSampled: Sampler;

  constructor(config: ParentBasedConfig) {
    // As the SDK's: a missing root is reported, and every root span sampled.
    if (config.root === undefined) diag.error('ParentBasedSampler must have a root sampler configured; using AlwaysOnSampler');
    this.#root = config.root ?? new AlwaysOnSampler();
    this.#remoteSampled = config.remoteParentSampled ?? new AlwaysOnSampler();
    this.#remoteNotSampled = config.remoteParentNotSampled ?? new AlwaysOffSampler();
    this.#localSampled = config.localParentSampled ?? new AlwaysOnSampler();
    this.#localNotSampled = config.localParentNotSampled ?? new AlwaysOffSampler();
  }

  shouldSample(ctx: Context, traceId: string, name: string, kind: SpanKind, attributes: Attributes, links: Link[]): SamplingResult {
    const parent = trace.getSpanContext(ctx);
    let delegate: Sampler;
    if (parent === undefined || !isSpanContextValidFast(parent)) delegate = this.#root;
    else if ((parent.traceFlags & TraceFlags.SAMPLED) !== 0) delegate = parent.isRemote ? this.#remoteSampled : this.#localSampled;
    else delegate = parent.isRemote ? this.#remoteNotSampled : this.#localNotSampled;
    return delegate.shouldSample(ctx, traceId, name, kind, attributes, links);
  }

  /** The SDK's description, so diagnostics read the same whichever built the sampler. */
  toString(): string {
    return `ParentBased{root=${this.#root.toString()}, remoteParentSampled=${this.#remoteSampled.toString()}, remoteParentNotSampled=${this.#remoteNotSampled.toString()}, localParentSampled=${this.#localSampled.toString()}, localParentNotSampled=${this.#localNotSampled.toString()}}`;
  }
}
