/**
 * Linkerd's retry and timeout annotations (Linkerd 2.16 on), on an
 * HTTPRoute, a GRPCRoute or a Service, as the config model's `retries` and
 * `timeout`. A Linkerd user's retries live nowhere else: reading the routes
 * without them would drop every retry they configured, silently.
 *
 * Linkerd's rule is that a route with any retry annotation replaces the
 * Service's retry policy whole, and likewise for timeouts. The config model
 * merges a route's retries into its service's field by field, so the block
 * made here is complete: every field set, `perTryTimeout: 0` and an empty
 * list where Linkerd's would have none, so nothing of the Service's leaks in.
 */
import { isMap, type Raw, ResourceReader } from './reader.js';

export type LinkerdTarget = 'HTTPRoute' | 'GRPCRoute' | 'Service';

export interface LinkerdPolicy {
  /** A complete retry block; undefined when no retry annotation is set. */
  readonly retries: Raw | undefined;
  /** The request timeout; undefined when not set (the only timeout annotation proxyless honours). */
  readonly timeout: string | undefined;
}

const RETRY = 'retry.linkerd.io/';
const TIMEOUT = 'timeout.linkerd.io/';
const GRPC_CODES = ['cancelled', 'deadline-exceeded', 'internal', 'resource-exhausted', 'unavailable'];
/** Linkerd's limit is unbounded; the config model's attempts stop at 10. */
const MAX_LIMIT = 10;
const DURATION = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/;
const NOT_SUPPORTED: Readonly<Record<string, string>> = {
  response:
    'is not supported: proxyless has no per-attempt timeout that is not retried; use timeout.linkerd.io/request for the whole call, or retry.linkerd.io/timeout for each try (retried)',
  idle: 'is not supported: proxyless does not bound how long a stream may sit idle; use timeout.linkerd.io/request',
};

/** Whether an annotation is one of Linkerd's retry or timeout ones (what the cluster watch keeps). */
export function isLinkerdPolicyAnnotation(key: string): boolean {
  return key.startsWith(RETRY) || key.startsWith(TIMEOUT);
}

/** The policy `annotations` (a metadata.annotations map, read at `r`) give a `target`; what cannot be honoured is an issue. */
export function linkerdPolicy(annotations: unknown, r: ResourceReader, target: LinkerdTarget): LinkerdPolicy {
  const none: LinkerdPolicy = { retries: undefined, timeout: undefined };
  if (!isMap(annotations)) return none;
  const at = (key: string) => new ResourceReader(r.issues, `${r.at}[${JSON.stringify(key)}]`);
  // Only annotations that were honoured make a block: a Service's bad one is reported and left out, as if absent.
  let anyRetry = false;
  const conditions: string[] = [];
  const codes: number[] = [];
  let limit: number | undefined;
  let perTry: string | undefined;
  let request: string | undefined;
  for (const [key, value] of Object.entries(annotations)) {
    if (!isLinkerdPolicyAnnotation(key)) continue;
    const ar = at(key);
    if (typeof value !== 'string') {
      ar.issue(`must be a string, got ${JSON.stringify(value)}`);
      continue;
    }
    const name = key.slice(key.indexOf('/') + 1);
    if (key.startsWith(TIMEOUT)) {
      if (name === 'request') request = duration(value, ar);
      else ar.issue(NOT_SUPPORTED[name] ?? 'is not one of Linkerd’s timeout annotations (request, response, idle)');
      continue;
    }
    if (name === 'http') {
      if (target === 'GRPCRoute') ar.issue('is not valid on a GRPCRoute, as in Linkerd: use retry.linkerd.io/grpc');
      else anyRetry = httpConditions(value, ar, conditions, codes) || anyRetry;
    } else if (name === 'grpc') {
      if (target === 'HTTPRoute') ar.issue('is not valid on an HTTPRoute, as in Linkerd: use retry.linkerd.io/http');
      else anyRetry = grpcConditions(value, ar, conditions) || anyRetry;
    } else if (name === 'limit') {
      limit = /^\d+$/.test(value.trim()) && Number(value) <= MAX_LIMIT ? Number(value) : undefined;
      if (limit === undefined) ar.issue(`must be a whole number from 0 to ${MAX_LIMIT}, got ${JSON.stringify(value)}`);
      else anyRetry = true;
    } else if (name === 'timeout') {
      perTry = duration(value, ar);
      if (perTry !== undefined) anyRetry = true;
    } else {
      ar.issue('is not one of Linkerd’s retry annotations (http, grpc, limit, timeout)');
    }
  }
  const retries: Raw | undefined = anyRetry
    ? {
        // Linkerd retries once unless told otherwise.
        attempts: limit ?? 1,
        retryOn: codes.length > 0 ? [...conditions, 'retriable-status-codes'] : conditions,
        retriableStatusCodes: codes,
        perTryTimeout: perTry ?? 0,
      }
    : undefined;
  return { retries, timeout: request };
}

/** `5xx`, `gateway-error`, `504`, `500-504`, comma-separated; whether any was taken. */
function httpConditions(value: string, r: ResourceReader, conditions: string[], codes: number[]): boolean {
  const before = conditions.length + codes.length;
  for (const item of items(value, r)) {
    if (item === '5xx' || item === 'gateway-error') {
      conditions.push(item);
      continue;
    }
    const range = /^(\d{3})(?:-(\d{3}))?$/.exec(item);
    const low = range === null ? Number.NaN : Number(range[1]);
    const high = range?.[2] === undefined ? low : Number(range[2]);
    if (!(low >= 100 && high <= 599 && low <= high)) {
      r.issue(`has ${JSON.stringify(item)}: each element must be a status (504), a range (500-504), gateway-error or 5xx, with statuses from 100 to 599`);
      continue;
    }
    for (let c = low; c <= high; c++) if (!codes.includes(c)) codes.push(c);
  }
  return conditions.length + codes.length > before;
}

function grpcConditions(value: string, r: ResourceReader, conditions: string[]): boolean {
  const before = conditions.length;
  for (const item of items(value, r)) {
    if (GRPC_CODES.includes(item)) conditions.push(item);
    else r.issue(`has ${JSON.stringify(item)}: each element must be one of ${GRPC_CODES.join(', ')}`);
  }
  return conditions.length > before;
}

function items(value: string, r: ResourceReader): string[] {
  const list = value
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');
  if (list.length === 0) r.issue('must list at least one condition');
  return list;
}

/** Linkerd's durations need a unit (`300ms`, `5s`), as the config model's strings do. */
function duration(value: string, r: ResourceReader): string | undefined {
  const v = value.trim();
  if (DURATION.test(v)) return v;
  r.issue(`must be a duration with its unit, such as 300ms or 5s, got ${JSON.stringify(value)}`);
  return undefined;
}
