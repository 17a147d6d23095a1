/**
 * The deadline a unit of work must finish by, carried implicitly through
 * async code with AsyncLocalStorage. An inbound request's remaining budget
 * (from its headers) becomes the deadline of everything its handler calls,
 * so a call made three hops down still gives up when the original caller
 * has.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { MeshError } from '../errors.js';
import { monotonicNow } from '../net/monotonic-clock.js';

export interface Deadline {
  /** Absolute time on the mesh's monotonic clock (monotonicNow), in ms. */
  readonly at: number;
  /**
   * 'timeout': set in this process (withDeadline); 'inherited': from an
   * inbound request's headers. An outbound call that runs out of a deadline
   * from the context reports `details.source: 'inherited'` either way: it
   * was not the call's own timeout.
   */
  readonly source: 'timeout' | 'inherited';
}

/** Remaining budget in ms (an integer) that an outbound call sends to the next hop. */
export const DEADLINE_HEADER = 'x-mesh-timeout-ms';

// Created on first use: a process that never sets a deadline never pays for
// the store, and importing this module has no side effects.
let storage: AsyncLocalStorage<Deadline | undefined> | undefined;

export function currentDeadline(): Deadline | undefined {
  return storage?.getStore();
}

/**
 * Run `fn` with a deadline `timeoutMs` from now. Inside an existing deadline
 * the earlier of the two applies: a callee can shorten the time its caller
 * gave it, never extend it.
 */
export function withDeadline<T>(timeoutMs: number, fn: () => T): T {
  if (Number.isNaN(timeoutMs)) {
    throw new MeshError('MESH_INVALID_ARGUMENT', 'withDeadline needs a timeout in milliseconds, got NaN');
  }
  // No limit adds no deadline (an infinite one would be sent on as "Infinity").
  if (timeoutMs === Number.POSITIVE_INFINITY) return fn();
  const at = monotonicNow() + timeoutMs;
  const outer = currentDeadline();
  if (outer !== undefined && outer.at <= at) return fn();
  return store().run({ at, source: 'timeout' }, fn);
}

/**
 * Run `fn` with exactly this deadline, replacing any current one (undefined
 * clears it). For restoring a deadline captured earlier, such as on a
 * callback that runs outside the original async context, and for a server
 * that starts a request from its inbound budget (see `deadlineFromBudget`).
 */
export function runWithDeadline<T>(deadline: Deadline | undefined, fn: () => T): T;
export function runWithDeadline<A, T>(deadline: Deadline | undefined, fn: (arg: A) => T, arg: A): T;
export function runWithDeadline<A, T>(deadline: Deadline | undefined, fn: (arg?: A) => T, arg?: A): T {
  if (deadline === undefined && storage === undefined) return fn(arg);
  return store().run(deadline, fn, arg);
}

/** An inherited deadline `budgetMs` from `now`, for a request that arrived with that budget. */
export function deadlineFromBudget(budgetMs: number, now: number = monotonicNow()): Deadline {
  return { at: now + budgetMs, source: 'inherited' };
}

/** Whole milliseconds left before `deadline` (never negative), as sent in `DEADLINE_HEADER`. */
export function remainingMs(deadline: Deadline, now: number = monotonicNow()): number {
  // Rounded down so each hop can only shrink the budget it passes on.
  return Math.max(0, Math.floor(deadline.at - now));
}

function store(): AsyncLocalStorage<Deadline | undefined> {
  storage ??= new AsyncLocalStorage<Deadline | undefined>();
  return storage;
}

/**
 * An inbound request's remaining budget in ms: `x-mesh-timeout-ms`, else
 * `grpc-timeout`, else Envoy's `x-envoy-expected-rq-timeout-ms`. A malformed
 * header is skipped as if absent (a bad header must not break serving), so
 * the next one in that order still counts. `get` reads a lowercase name.
 */
export function budgetFromHeaders<C = undefined>(get: (lowerName: string, context: C) => string | undefined, context?: C): number | undefined {
  // `context` goes to `get` as it is, so a per-request caller needs no closure over its headers.
  const c = context as C;
  return budgetOf(get(DEADLINE_HEADER, c), get(GRPC_TIMEOUT, c), get(ENVOY_TIMEOUT, c));
}

const GRPC_TIMEOUT = 'grpc-timeout';
const ENVOY_TIMEOUT = 'x-envoy-expected-rq-timeout-ms';

type HeaderRecord = Readonly<Record<string, string | string[] | undefined>>;

/**
 * budgetFromHeaders over node's header record. Each name is read at its
 * own site: one site reading three names goes megamorphic, which cost
 * about 400 instructions per inbound request.
 */
export function budgetFromRecord(headers: HeaderRecord): number | undefined {
  return budgetOf(firstOf(headers[DEADLINE_HEADER]), firstOf(headers[GRPC_TIMEOUT]), firstOf(headers[ENVOY_TIMEOUT]));
}

function firstOf(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function budgetOf(mesh: string | undefined, grpc: string | undefined, envoy: string | undefined): number | undefined {
  return integerMs(mesh) ?? grpcTimeoutMs(grpc) ?? integerMs(envoy);
}

// Parsed by hand rather than with a regex: this runs for every inbound
// request, and a match array per header is garbage the server does not need.

/** Up to 15 digits keeps every accepted value exact as a double. */
const MAX_MS_DIGITS = 15;
/** gRPC spec: TimeoutValue is at most 8 digits. */
const MAX_GRPC_DIGITS = 8;

function integerMs(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const from = trimStart(value);
  const n = digits(value, from, trimEnd(value, from), MAX_MS_DIGITS);
  return n < 0 ? undefined : n;
}

/** gRPC's `<digits><unit>`, unit one of H M S m u n. */
function grpcTimeoutMs(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const from = trimStart(value);
  const end = trimEnd(value, from);
  if (end - from < 2) return undefined;
  const n = digits(value, from, end - 1, MAX_GRPC_DIGITS);
  if (n < 0) return undefined;
  switch (value.charCodeAt(end - 1)) {
    case 72: // H
      return n * 3_600_000;
    case 77: // M
      return n * 60_000;
    case 83: // S
      return n * 1000;
    case 109: // m
      return n;
    case 117: // u
      return n / 1000;
    case 110: // n
      return n / 1_000_000;
    default:
      return undefined;
  }
}

/** The decimal number in s[from, to), or -1 when it is empty, too long or not all digits. */
function digits(s: string, from: number, to: number, maxDigits: number): number {
  if (to <= from || to - from > maxDigits) return -1;
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

function isBlank(code: number): boolean {
  return code === 32 || code === 9;
}

function trimStart(s: string): number {
  let i = 0;
  while (i < s.length && isBlank(s.charCodeAt(i))) i++;
  return i;
}

function trimEnd(s: string, from: number): number {
  let end = s.length;
  while (end > from && isBlank(s.charCodeAt(end - 1))) end--;
  return end;
}

const GRPC_MAX_VALUE = 99_999_999;
const UNITS = ['H', 'M', 'S', 'm', 'u', 'n'] as const;
const UNIT_NS = [3.6e12, 6e10, 1e9, 1e6, 1e3, 1] as const;
const UNIT_MS = [3_600_000, 60_000, 1000, 1] as const;
/** Below this many ms, the value in nanoseconds is an exact integer double. */
const NS_EXACT_BELOW_MS = 9e6;

/**
 * A `grpc-timeout` value: the largest unit that states `ms` exactly in at
 * most 8 digits (so 2000 → "2S", 1.5 → "1500u"). When no unit is exact, the
 * finest unit that fits, rounded up as grpc-go does (a budget a nanosecond
 * long is better than none); capped at "99999999H".
 */
export function formatGrpcTimeout(ms: number): string {
  if (!(ms > 0)) return '0n';
  // Integer ticks keep the exactness test free of floating-point error.
  const fine = ms < NS_EXACT_BELOW_MS;
  const ticks = fine ? Math.max(1, Math.round(ms * 1e6)) : Math.ceil(ms);
  const sizes: readonly number[] = fine ? UNIT_NS : UNIT_MS;
  for (let i = 0; i < sizes.length; i++) {
    const size = sizes[i]!;
    if (ticks % size === 0 && ticks / size <= GRPC_MAX_VALUE) return `${ticks / size}${UNITS[i]}`;
  }
  for (let i = sizes.length - 1; i >= 0; i--) {
    const v = Math.ceil(ticks / sizes[i]!);
    if (v <= GRPC_MAX_VALUE) return `${v}${UNITS[i]}`;
  }
  return `${GRPC_MAX_VALUE}H`;
}
