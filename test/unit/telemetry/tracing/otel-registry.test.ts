import { context, propagation, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { afterAll, describe, expect, it } from 'vitest';
import { activeContext } from '../../../../src/telemetry/tracing/active-context.js';
import { appPropagatorRegistered } from '../../../../src/telemetry/tracing/mesh-propagator.js';
import { otelGlobalsRegistered } from '../../../../src/telemetry/tracing/otel-registry.js';

// One file, one process: the api's globals start empty here, and the steps below run in order.
describe('otelGlobalsRegistered', () => {
  afterAll(() => {
    context.disable();
    propagation.disable();
  });

  it('is false until the first registration, and the mesh answers as the api would', () => {
    expect(otelGlobalsRegistered()).toBe(false);
    expect(activeContext()).toBe(ROOT_CONTEXT);
    expect(appPropagatorRegistered()).toBe(false);
  });

  it('turns true on the api registering anything, so the mesh asks the api again', () => {
    // A tracer provider alone creates the api's global object: the key the check reads is the api's own.
    trace.getTracerProvider();
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    expect(otelGlobalsRegistered()).toBe(true);
    expect(appPropagatorRegistered()).toBe(true);

    const manager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(manager);
    const key = Symbol('k');
    const inner = ROOT_CONTEXT.setValue(key, 'v');
    expect(context.with(inner, () => activeContext().getValue(key))).toBe('v');
  });

  it('stays true after the api unregisters (its object remains) and answers from the api', () => {
    propagation.disable();
    expect(otelGlobalsRegistered()).toBe(true);
    expect(appPropagatorRegistered()).toBe(false);
  });
});
