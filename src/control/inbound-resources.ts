/**
 * The inbound listeners of one snapshot. Unlike the outbound resources,
 * which are the same for every client, an inbound listener depends on who
 * asks (its namespace and labels select the policies) and on the address in
 * its name, so it is built when a client subscribes to it, once per
 * (name, workload) and snapshot, and cached with the snapshot.
 *
 * What the RBAC and JWT filters cannot carry, or what gRPC servers cannot
 * evaluate, is logged once and kept in `warnings` for the status view.
 */
import { createHash } from 'node:crypto';
import type { ConfigIssue } from '../config/config-error.js';
import type { MeshLogger } from '../telemetry/logger.js';
import { inboundListener } from './inbound-listener-resources.js';
import { type InboundInputs, inboundAddress, workloadOf, workloadSecurity } from './inbound-workload.js';
import { jwtAuthentication } from './jwt-resources.js';
import { rbacFilters } from './rbac-resources.js';

export interface EncodedResource {
  readonly name: string;
  readonly any: { readonly type_url: string; readonly value: Buffer };
  readonly hash: string;
}

export type InboundNode = { id?: string; metadata?: unknown } | null | undefined;

/** The inputs' digest: equal digests give equal listeners. */
export function inboundDigest(inputs: InboundInputs): string {
  return createHash('sha256').update(JSON.stringify(inputs)).digest('base64url');
}

export class InboundListeners {
  readonly #inputs: InboundInputs;
  readonly #encode: (name: string, object: Record<string, unknown>) => EncodedResource;
  readonly #cache = new Map<string, EncodedResource | undefined>();
  /** `listener name (namespace, labels)` → what could not be carried or what gRPC cannot evaluate. */
  readonly warnings = new Map<string, string[]>();

  constructor(inputs: InboundInputs, encode: (name: string, object: Record<string, unknown>) => EncodedResource) {
    this.#inputs = inputs;
    this.#encode = encode;
  }

  /** The listener `name` for the client `node`, or undefined when `name` is not an inbound listener name. */
  resource(name: string, node: InboundNode, logger?: MeshLogger): EncodedResource | undefined {
    const address = inboundAddress(name);
    if (address === undefined) return undefined;
    const workload = workloadOf(node);
    const key = `${name} (${workload.namespace}, ${JSON.stringify(workload.labels)})`;
    if (this.#cache.has(key)) return this.#cache.get(key);
    const issues: ConfigIssue[] = [];
    const messages: string[] = [];
    let resource: EncodedResource | undefined;
    try {
      const sec = workloadSecurity(this.#inputs, workload, address.port, issues);
      // A PeerAuthentication that cannot be read must not weaken the mode: the client keeps its last listener.
      if (issues.length > 0) throw new Error('a PeerAuthentication for this workload is invalid');
      const rbac = rbacFilters(sec.authorizationPolicies, workload.namespace, (at, message) => messages.push(`${at}: ${message}`));
      const jwt = jwtAuthentication(sec.requestAuthentications);
      if (jwt !== undefined) messages.push('RequestAuthentication is served in an optional jwt_authn filter, which gRPC servers skip: on them no token is verified');
      resource = this.#encode(name, inboundListener({ name, ip: address.ip, port: address.port, mode: sec.mode, rbac, jwt }));
    } catch (err) {
      // The last resort: a policy the encoder refuses. The listener is left out (the client keeps its last one).
      messages.push(`not served: ${(err as Error).message}`);
    }
    for (const i of issues) messages.push(`${i.path}: ${i.message}`);
    this.#cache.set(key, resource);
    if (messages.length > 0) {
      this.warnings.set(key, messages);
      logger?.warn('inbound listener: some policy is not carried as written', { listener: name, workload: key, warnings: messages });
    }
    return resource;
  }
}
