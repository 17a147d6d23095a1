import { ServerResponse } from 'node:http';
import { describe, expect, test } from 'vitest';
import { HOOKED, hookResponsePrototype } from '../../../src/server/request-slots.js';

describe('hookResponsePrototype', () => {
  test("hooks a framework's own response prototype once, leaving node's class alone", () => {
    const appResponse = Object.create(ServerResponse.prototype) as ServerResponse & { [HOOKED]?: boolean };
    expect(hookResponsePrototype(appResponse)).toBe(true);
    expect(appResponse[HOOKED]).toBe(true);
    expect(appResponse.write).not.toBe(ServerResponse.prototype.write);
    expect(appResponse.emit).not.toBe(ServerResponse.prototype.emit);
    // A mounted app's prototype inherits the hooks: it needs none of its own.
    const mounted = Object.create(appResponse) as typeof appResponse;
    expect(mounted[HOOKED]).toBe(true);
    expect((ServerResponse.prototype as typeof appResponse)[HOOKED]).toBeUndefined();
    expect(hookResponsePrototype(ServerResponse.prototype)).toBe(false);
    expect((ServerResponse.prototype as typeof appResponse)[HOOKED]).toBeUndefined();
  });

  test('refuses a prototype someone else patched, and what is not a response', () => {
    const patched = Object.create(ServerResponse.prototype) as ServerResponse & { [HOOKED]?: boolean };
    const theirs = () => true;
    patched.write = theirs;
    expect(hookResponsePrototype(patched)).toBe(false);
    expect(patched.write).toBe(theirs);
    expect(patched[HOOKED]).toBeUndefined();
    expect(hookResponsePrototype({})).toBe(false);
  });
});
