/**
 * The grpc-js side of endpoint picking. The mesh's own pickers (round
 * robin, least request, peak EWMA, ring hash, maglev; with outlier
 * detection and locality) choose the endpoint before an attempt starts
 * (call.ts); this load-balancing policy only turns that choice into a
 * grpc-js subchannel. The attempt names its endpoint in a metadata entry
 * that the picker removes, so it never goes on the wire. One balancing
 * decision, made where retries and hedges can see it, instead of grpc-js
 * choosing again underneath.
 *
 * Subchannels are created on first use and for the endpoints the resolver
 * reports (so the first call does not pay for the connection), and
 * released once their endpoint leaves discovery.
 */
import {
  type ChannelOptions,
  connectivityState,
  experimental,
  status as grpcStatus,
  Metadata,
  type StatusObject,
} from '@grpc/grpc-js';
import { endpointKey } from '../discovery/endpoint.js';
import { channelOf, type GrpcChannelContext } from './grpc-channel-context.js';

type ConnectivityState = connectivityState;
const State = connectivityState;
type Subchannel = experimental.SubchannelInterface;
type PickResult = experimental.PickResult;

/** The metadata key an attempt uses to name its endpoint. */
export const ENDPOINT_PIN = 'x-proxyless-endpoint';
/** Set in the status of an attempt whose endpoint could not be connected to: a connect failure, safe to retry. */
export const CONNECT_FAILED = 'x-proxyless-connect-failed';

export const BALANCER_NAME = 'proxyless_mesh';

class MeshBalancerConfig implements experimental.TypedLoadBalancingConfig {
  getLoadBalancerName(): string {
    return BALANCER_NAME;
  }
  toJsonObject(): object {
    return { [BALANCER_NAME]: {} };
  }
  static createFromJson(): MeshBalancerConfig {
    return new MeshBalancerConfig();
  }
}

interface Slot {
  readonly subchannel: Subchannel;
  state: ConnectivityState;
  lastError: string | undefined;
}

/** Answers picks from the balancer's live slots; re-published on every state change so queued picks run again. */
class PinPicker implements experimental.Picker {
  readonly #balancer: MeshBalancer;
  constructor(balancer: MeshBalancer) {
    this.#balancer = balancer;
  }
  pick(args: experimental.PickArgs): PickResult {
    const pinned = args.metadata.get(ENDPOINT_PIN);
    const key = pinned.length > 0 ? String(pinned[0]) : undefined;
    if (key !== undefined) args.metadata.remove(ENDPOINT_PIN);
    return this.#balancer.pickFor(key);
  }
}

export class MeshBalancer implements experimental.LoadBalancer {
  readonly #helper: experimental.ChannelControlHelper;
  readonly #slots = new Map<string, Slot>();
  readonly #picker = new PinPicker(this);
  #context: GrpcChannelContext | undefined;
  #options: ChannelOptions = {};
  #published = false;
  readonly #onState = (sub: Subchannel, _prev: ConnectivityState, next: ConnectivityState, _k: number, error?: string) => {
    const slot = this.#slots.get(sub.getAddress());
    // grpc-js hands listeners the real subchannel, not the wrapper the helper returned.
    if (slot === undefined || !slot.subchannel.realSubchannelEquals(sub)) return;
    slot.state = next;
    if (next === State.TRANSIENT_FAILURE) slot.lastError = error;
    this.#publish();
  };

  constructor(helper: experimental.ChannelControlHelper) {
    this.#helper = helper;
  }

  updateAddressList(
    endpoints: experimental.StatusOr<experimental.Endpoint[]>,
    _config: experimental.TypedLoadBalancingConfig,
    options: ChannelOptions,
  ): boolean {
    this.#options = options;
    this.#context ??= channelOf(options);
    const keep = new Set<string>();
    if (endpoints.ok) {
      for (const endpoint of endpoints.value) {
        for (const address of endpoint.addresses) {
          if (!('host' in address)) continue;
          const key = endpointKey(address.host, address.port);
          keep.add(key);
          // Warm: connect now so the first call does not wait for the handshake.
          this.#slot(key, address.host, address.port).subchannel.startConnecting();
        }
      }
    }
    this.#release(keep);
    this.#publish();
    return true;
  }

  /** The pick for an attempt pinned to `key` (host:port). */
  pickFor(key: string | undefined): PickResult {
    if (key === undefined) return failure(grpcStatus.INTERNAL, 'call made without the mesh interceptor (use mesh.grpc.client)', false);
    let slot = this.#slots.get(key);
    if (slot === undefined) {
      const upstream = this.#context?.upstreams.get(key);
      if (upstream === undefined) return failure(grpcStatus.UNAVAILABLE, `endpoint ${key} is not known to the mesh`, true);
      slot = this.#slot(key, upstream.endpoint.address, upstream.endpoint.port);
    }
    switch (slot.state) {
      case State.READY:
        return { pickResultType: experimental.PickResultType.COMPLETE, subchannel: slot.subchannel, status: null, onCallStarted: null, onCallEnded: null };
      case State.TRANSIENT_FAILURE:
        return failure(grpcStatus.UNAVAILABLE, `connect to ${key} failed: ${slot.lastError ?? 'connection refused'}`, true);
      case State.IDLE:
        slot.subchannel.startConnecting();
        return QUEUE;
      default:
        return QUEUE;
    }
  }

  #slot(key: string, host: string, port: number): Slot {
    let slot = this.#slots.get(key);
    if (slot !== undefined) return slot;
    const subchannel = this.#helper.createSubchannel({ host, port }, this.#options);
    subchannel.ref();
    this.#helper.addChannelzChild(subchannel.getChannelzRef());
    subchannel.addConnectivityStateListener(this.#onState);
    slot = { subchannel, state: subchannel.getConnectivityState(), lastError: undefined };
    this.#slots.set(subchannel.getAddress(), slot);
    if (subchannel.getAddress() !== key) this.#slots.set(key, slot);
    return slot;
  }

  /** Drop subchannels whose endpoint left discovery (unless a call still names it). */
  #release(keep: ReadonlySet<string>): void {
    const upstreams = this.#context?.upstreams;
    for (const [key, slot] of this.#slots) {
      if (keep.has(key)) continue;
      const upstream = upstreams?.get(key);
      if (upstream !== undefined && !upstream.closed) continue;
      upstreams?.delete(key);
      this.#drop(key, slot);
    }
  }

  #drop(key: string, slot: Slot): void {
    this.#slots.delete(key);
    if ([...this.#slots.values()].includes(slot)) return;
    slot.subchannel.removeConnectivityStateListener(this.#onState);
    this.#helper.removeChannelzChild(slot.subchannel.getChannelzRef());
    slot.subchannel.unref();
  }

  #publish(): void {
    // READY always: whether a call can go depends on its own endpoint, which the picker decides per call.
    this.#helper.updateState(State.READY, this.#picker, null);
    this.#published = true;
  }

  exitIdle(): void {
    if (!this.#published) this.#publish();
  }

  resetBackoff(): void {
    for (const slot of this.#slots.values()) slot.subchannel.startConnecting();
  }

  destroy(): void {
    for (const [key, slot] of [...this.#slots]) this.#drop(key, slot);
  }

  getTypeName(): string {
    return BALANCER_NAME;
  }
}

const QUEUE: PickResult = {
  pickResultType: experimental.PickResultType.QUEUE,
  subchannel: null,
  status: null,
  onCallStarted: null,
  onCallEnded: null,
};

function failure(code: grpcStatus, details: string, connectFailed: boolean): PickResult {
  const metadata = new Metadata();
  if (connectFailed) metadata.set(CONNECT_FAILED, '1');
  const status: StatusObject = { code, details, metadata };
  return { pickResultType: experimental.PickResultType.TRANSIENT_FAILURE, subchannel: null, status, onCallStarted: null, onCallEnded: null };
}

let registered = false;

/** Register the policy with grpc-js (a process-wide registry), once, when the first mesh client is made. */
export function registerMeshBalancer(): void {
  if (registered) return;
  registered = true;
  experimental.registerLoadBalancerType(BALANCER_NAME, MeshBalancer, MeshBalancerConfig);
}
