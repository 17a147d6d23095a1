/**
 * Handler decorators for gRPC services: `@Authorize`, `@RateLimit`,
 * `@Timeout` and `@Idempotent` on a handler class's methods (or on the
 * class, for every method). The mesh server reads them when the handler is
 * registered (`server.addService(definition, handler)`).
 *
 * Each decorator works in both of TypeScript's decorator modes:
 * - standard (TC39) decorators, called as `(method, context)`;
 * - `experimentalDecorators` (NestJS), called as
 *   `(prototype, name, descriptor)` for a method and `(constructor)` for a class.
 * Neither needs `Symbol.metadata` nor `reflect-metadata`: the policy is
 * kept in a WeakMap keyed by the method function (or the class), which is
 * the same object in both modes, and the method itself is left unchanged.
 *
 * Options are checked when the decorator runs, so a bad one fails at class
 * definition with MESH_INVALID_ARGUMENT naming the decorator.
 */
import { MeshError } from '../../errors.js';

/** Who may call the method: Istio AuthorizationPolicy `from`/`when` fields; fields are ANDed, values in one field ORed. */
export interface AuthorizeOptions {
  /** Peer SPIFFE IDs without `spiffe://` (`cluster.local/ns/shop/sa/frontend`); `*` wildcards as in Istio. */
  readonly principals?: readonly string[];
  /** The peer's namespace, from its SPIFFE ID. */
  readonly namespaces?: readonly string[];
  /** The verified JWT's `iss/sub`; `*` for "any verified token". */
  readonly requestPrincipals?: readonly string[];
  /** JWT claims: the claim must have one of the values (Istio's `request.auth.claims[name]`). */
  readonly claims?: Readonly<Record<string, string | readonly string[]>>;
}

/** A per-method token bucket, in Envoy local_ratelimit's terms (as `mesh.inbound.rateLimit`). */
export interface RateLimitOptions {
  /** Capacity; the bucket starts full. Default: tokensPerFill, else 100. */
  readonly maxTokens?: number;
  /** Tokens added each interval. Default: maxTokens. */
  readonly tokensPerFill?: number;
  /** Interval in ms. Default 1000. */
  readonly fillInterval?: number;
}

/** What the decorators recorded for one method (or a whole class). */
export interface MethodPolicy {
  readonly authorize?: readonly AuthorizeOptions[];
  readonly rateLimit?: RateLimitOptions;
  readonly timeoutMs?: number;
  readonly idempotent?: boolean;
}

const policies = new WeakMap<object, MethodPolicy>();

/** The policy decorators put on a method function or a class; undefined when none did. */
export function decoratedPolicy(target: object): MethodPolicy | undefined {
  return policies.get(target);
}

function add(target: object, change: MethodPolicy): void {
  const before = policies.get(target) ?? {};
  const authorize = [...(before.authorize ?? []), ...(change.authorize ?? [])];
  policies.set(target, { ...before, ...change, ...(authorize.length > 0 ? { authorize } : {}) });
}

/**
 * A decorator for a method or a class in either mode. In both modes the
 * first argument of a method decorator's call is distinguishable: standard
 * passes a context object with `kind`; legacy passes a property key and
 * descriptor.
 */
export type MeshGrpcDecorator = {
  // Standard (TC39) decorators.
  <F extends (...args: never[]) => unknown>(method: F, context: ClassMethodDecoratorContext): void;
  <C extends abstract new (...args: never[]) => unknown>(cls: C, context: ClassDecoratorContext): void;
  // experimentalDecorators.
  (prototype: object, name: string | symbol, descriptor: PropertyDescriptor): void;
  (cls: abstract new (...args: never[]) => unknown): void;
};

function decorator(name: string, change: MethodPolicy): MeshGrpcDecorator {
  return ((target: object, second?: unknown, descriptor?: PropertyDescriptor): void => {
    if (second !== undefined && typeof second === 'object' && second !== null && 'kind' in second) {
      const kind = (second as { kind: string }).kind;
      if (kind !== 'method' && kind !== 'class') throw new MeshError('MESH_INVALID_ARGUMENT', `@${name}() applies to a method or a class, not a ${kind}`);
      add(target, change);
      return;
    }
    if (second === undefined) {
      add(target, change);
      return;
    }
    const fn = descriptor?.value as unknown;
    if (typeof fn !== 'function') throw new MeshError('MESH_INVALID_ARGUMENT', `@${name}() applies to a method or a class, not to ${String(second)}`);
    add(fn, change);
  }) as MeshGrpcDecorator;
}

function invalid(name: string, what: string, value: unknown): MeshError {
  return new MeshError('MESH_INVALID_ARGUMENT', `@${name}(): ${what}, got ${JSON.stringify(value)}`);
}

function stringList(name: string, field: string, value: unknown): void {
  if (value === undefined) return;
  if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === 'string' && v !== '')) {
    throw invalid(name, `${field} must be a non-empty list of non-empty strings`, value);
  }
}

/**
 * Allow the method only to callers that match (after the mesh's own
 * AuthorizationPolicies allowed the call). Several `@Authorize` on one
 * method all apply; a class-level one applies to every method.
 * A caller that is refused only for lack of a JWT gets UNAUTHENTICATED,
 * any other refusal PERMISSION_DENIED.
 */
export function Authorize(options: AuthorizeOptions): MeshGrpcDecorator {
  if (typeof options !== 'object' || options === null) throw invalid('Authorize', 'needs an options object', options);
  const known = new Set(['principals', 'namespaces', 'requestPrincipals', 'claims']);
  for (const key of Object.keys(options)) if (!known.has(key)) throw invalid('Authorize', `unknown option "${key}" (known: ${[...known].join(', ')})`, options);
  stringList('Authorize', 'principals', options.principals);
  stringList('Authorize', 'namespaces', options.namespaces);
  stringList('Authorize', 'requestPrincipals', options.requestPrincipals);
  for (const [claim, v] of Object.entries(options.claims ?? {})) {
    if (typeof v !== 'string') stringList('Authorize', `claims.${claim}`, v);
  }
  if (Object.keys(options).length === 0) throw invalid('Authorize', 'needs at least one of principals, namespaces, requestPrincipals, claims', options);
  return decorator('Authorize', { authorize: [options] });
}

function positiveNumber(name: string, field: string, value: unknown): void {
  if (value !== undefined && !(typeof value === 'number' && Number.isFinite(value) && value > 0)) throw invalid(name, `${field} must be a positive number`, value);
}

/** A token bucket for this method alone, on top of the mesh's inbound rate limit; an empty bucket answers RESOURCE_EXHAUSTED. */
export function RateLimit(options: RateLimitOptions): MeshGrpcDecorator {
  if (typeof options !== 'object' || options === null) throw invalid('RateLimit', 'needs an options object', options);
  positiveNumber('RateLimit', 'maxTokens', options.maxTokens);
  positiveNumber('RateLimit', 'tokensPerFill', options.tokensPerFill);
  positiveNumber('RateLimit', 'fillInterval', options.fillInterval);
  return decorator('RateLimit', { rateLimit: options });
}

/**
 * Caps the method's deadline at `ms`: the call ends with DEADLINE_EXCEEDED
 * then, and calls the handler makes through the mesh inherit the shorter
 * deadline. A caller's shorter `grpc-timeout` still wins.
 */
export function Timeout(ms: number): MeshGrpcDecorator {
  positiveNumber('Timeout', 'the timeout (ms)', ms);
  if (typeof ms !== 'number') throw invalid('Timeout', 'needs a timeout in ms', ms);
  return decorator('Timeout', { timeoutMs: ms });
}

/**
 * The method is safe to call twice: the mesh's gRPC clients in this
 * process retry and hedge it (`mesh.grpc.methods`). Clients in other
 * processes learn it from the proto's `option idempotency_level`.
 */
export function Idempotent(): MeshGrpcDecorator {
  return decorator('Idempotent', { idempotent: true });
}
