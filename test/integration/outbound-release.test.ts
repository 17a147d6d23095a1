/**
 * Once the caller has its answer, the call lets go of the caller's handler
 * (and the body stream behind it). undici keeps pointing at the attempt,
 * and through it at the call, after the response ends; when V8 has put
 * undici's request object in the old generation, whatever the call still
 * holds survives every scavenge until a full GC (bench:gc-modes measures
 * the cost). These tests hold the controller the mesh gave the caller,
 * as undici does, and check the handler behind it can still be collected.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Dispatcher } from 'undici';
import { afterEach, describe, expect, test } from 'vitest';
import { createMesh, type Mesh } from '../../src/index.js';
import { deadPort, type EchoServer, startEcho } from '../helpers/echo-server.js';

const meshes: Mesh[] = [];
const servers: EchoServer[] = [];

afterEach(async () => {
  await Promise.all(meshes.splice(0).map((m) => m.destroy()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

function collectGarbage(): () => void {
  setFlagsFromString('--expose_gc');
  return runInNewContext('gc') as () => void;
}

interface Outcome {
  controller: Dispatcher.DispatchController;
  handler: WeakRef<object>;
  status: number;
  error: Error | undefined;
  late: number;
}

/** Dispatches GET `path` with a handler only a WeakRef keeps once the call is over; resolves when it ends. */
function dispatchAndForget(mesh: Mesh, origin: string, path: string): Promise<Outcome> {
  return new Promise((resolve) => {
    const outcome = { status: 0, error: undefined, late: 0 } as unknown as Outcome;
    let ended = false;
    const finish = () => {
      ended = true;
      // Resolve on a later turn, so nothing on the stack still holds the handler.
      setImmediate(() => resolve(outcome));
    };
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(controller) {
        outcome.controller = controller;
      },
      onResponseStart(_controller, statusCode) {
        if (ended) outcome.late++;
        outcome.status = statusCode;
      },
      onResponseData() {
        if (ended) outcome.late++;
      },
      onResponseEnd() {
        if (ended) outcome.late++;
        finish();
      },
      onResponseError(_controller, err) {
        if (ended) outcome.late++;
        outcome.error = err;
        finish();
      },
    };
    outcome.handler = new WeakRef(handler);
    mesh.dispatcher.dispatch({ origin, path, method: 'GET' }, handler);
  });
}

describe('an answered call lets go of what it no longer needs', () => {
  test('after a response, the caller handler is collectable while its controller is still held', async () => {
    const gc = collectGarbage();
    const echo = await startEcho('r0');
    servers.push(echo);
    const mesh = createMesh({ env: false, config: { services: { echo: { endpoints: [echo.address] } } } });
    meshes.push(mesh);
    await mesh.ready();

    const outcome = await dispatchAndForget(mesh, 'http://echo', '/');
    expect(outcome.status).toBe(200);
    expect(outcome.error).toBeUndefined();
    gc();
    expect(outcome.controller).toBeDefined();
    expect(outcome.handler.deref()).toBeUndefined();

    // The controller stays safe to call, and nothing more reaches anyone.
    outcome.controller.pause();
    outcome.controller.resume();
    outcome.controller.abort(new Error('too late'));
    expect(outcome.late).toBe(0);
  });

  test('after a failure, and after a local reply, the same holds', async () => {
    const gc = collectGarbage();
    const mesh = createMesh({
      env: false,
      config: {
        services: {
          down: { endpoints: [`127.0.0.1:${await deadPort()}`], retries: { attempts: 1 } },
          faulty: {
            endpoints: ['127.0.0.1:9'],
            routes: [{ name: 'abort-all', fault: { abort: { percentage: 100, httpStatus: 418 } }, route: [{ destination: {} }] }],
          },
        },
      },
    });
    meshes.push(mesh);
    await mesh.ready();

    const failed = await dispatchAndForget(mesh, 'http://down', '/');
    expect(failed.error).toMatchObject({ code: 'MESH_CONNECT_FAILURE' });
    const replied = await dispatchAndForget(mesh, 'http://faulty', '/');
    expect(replied.status).toBe(418);
    gc();
    expect(failed.controller).toBeDefined();
    expect(replied.controller).toBeDefined();
    expect(failed.handler.deref()).toBeUndefined();
    expect(replied.handler.deref()).toBeUndefined();
    expect(failed.late + replied.late).toBe(0);
  });
});
