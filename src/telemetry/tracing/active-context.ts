/**
 * The context a traced request runs in, even when the application has not
 * registered an OpenTelemetry context manager. Without one the api's
 * `context.with` is a no-op, so an inbound request's trace context would
 * never reach the calls its handler makes, and the mesh could not pass an
 * incoming trace on. The mesh does not register a global manager itself:
 * that would clash with the SDK's own registration later. Instead, while no
 * manager is registered, it keeps the context in its own AsyncLocalStorage,
 * read only when the api answers with the empty root context.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { type Context, context, createContextKey, ROOT_CONTEXT } from '@opentelemetry/api';
import { otelGlobalsRegistered } from './otel-registry.js';

// Created on first use, so importing this module has no side effects and a
// process that never serves a traced request never pays for the store.
let fallback: AsyncLocalStorage<Context> | undefined;
let probe: Context | undefined;
let managerSeen = false;

function probeActive(): Context {
  return context.active();
}

/**
 * Whether a global context manager is registered. Once one is, it stays (the
 * api refuses a second registration), so a positive answer is kept; until
 * then each check is one `context.with` on a constant context, no allocation.
 */
export function hasContextManager(): boolean {
  if (managerSeen) return true;
  probe ??= ROOT_CONTEXT.setValue(createContextKey('proxyless context-manager probe'), true);
  managerSeen = context.with(probe, probeActive) === probe;
  return managerSeen;
}

/** The current context: the api's, or the mesh's own while no context manager is registered. */
export function activeContext(): Context {
  if (!otelGlobalsRegistered()) return fallback?.getStore() ?? ROOT_CONTEXT;
  const ctx = context.active();
  if (fallback === undefined || ctx !== ROOT_CONTEXT) return ctx;
  return fallback.getStore() ?? ctx;
}

/** Runs `fn` with `ctx` as the current context, through the api when it can carry it. */
export function runInContext<T>(ctx: Context, fn: () => T): T;
export function runInContext<A, T>(ctx: Context, fn: (arg: A) => T, arg: A): T;
export function runInContext<A, T>(ctx: Context, fn: (arg?: A) => T, arg?: A): T {
  if (hasContextManager()) return context.with(ctx, fn, undefined, arg);
  fallback ??= new AsyncLocalStorage<Context>();
  return fallback.run(ctx, fn, arg);
}
