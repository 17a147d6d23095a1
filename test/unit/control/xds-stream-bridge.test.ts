/**
 * One client stream's make-before-break over time: a client that never
 * moves off a removed cluster (it NACKs the new routes) still loses it once
 * the bridge's limit has passed, and a client that moves off loses it at
 * once. The stream's gRPC call is a recorder of what was written; the stream
 * itself is real.
 */
import { afterEach, expect, test, vi } from 'vitest';
import { parseConfigText } from '../../../src/config/file-source.js';
import { validateConfig } from '../../../src/config/validate.js';
import { buildSnapshot, type Snapshot } from '../../../src/control/snapshot.js';
import { type DiscoveryRequest, type DiscoveryResponse, XdsStream } from '../../../src/control/xds-stream.js';
import { TYPE_URL, unpackAny } from '../../../src/discovery/xds/envoy-protos.js';

const SUBSET = 'outbound|9080|v1|reviews.default.svc.cluster.local';
const PLAIN = 'outbound|9080||reviews.default.svc.cluster.local';

const config = (canary: boolean) => `
services:
  reviews:
    port: 9080
    endpoints: ["10.0.0.1:9080"]
${canary ? '    subsets: { v1: { labels: {} } }\n    routes: [{ route: [{ destination: { subset: v1 } }] }]\n' : ''}`;

const snapshot = (canary: boolean, version: string, previous?: Snapshot) =>
  buildSnapshot(validateConfig(parseConfigText(config(canary), 'test'), 'test'), version, previous);

afterEach(() => {
  vi.useRealTimers();
});

/** A stream on `current`, its responses recorded; `ask` sends a request, ACKing the last response of its type. */
function stream(current: () => Snapshot) {
  const written: DiscoveryResponse[] = [];
  const call = { write: (r: DiscoveryResponse) => written.push(r), getPeer: () => 'test', end: () => {} };
  const s = new XdsStream(1, call as never, { current, identifier: 'test', logger: { info() {}, warn() {}, error() {} } }, 'ads');
  const last = (type: string) => written.filter((r) => r.type_url === type).at(-1);
  const ask = (type: string, names: string[], error?: string) => {
    const before = last(type);
    const req: DiscoveryRequest = {
      version_info: before?.version_info ?? '',
      response_nonce: before?.nonce ?? '',
      type_url: type,
      resource_names: names,
      node: { id: 'n' },
      ...(error !== undefined ? { error_detail: { code: 3, message: error } } : {}),
    };
    s.receive(req);
  };
  const names = (r: DiscoveryResponse | undefined) => (r?.resources ?? []).map((a) => String(unpackAny(a.type_url, a.value).name)).sort();
  return { s, written, last, ask, names };
}

/**
 * A client that has ACKed snapshot 1's routes and its subset cluster, and
 * has just been pushed snapshot 2, whose routes no longer use the subset.
 */
function pushedRemoval() {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  const before = snapshot(true, '1');
  let current = before;
  const c = stream(() => current);
  c.ask(TYPE_URL.routeConfiguration, ['reviews']);
  c.ask(TYPE_URL.routeConfiguration, ['reviews']);
  c.ask(TYPE_URL.cluster, [SUBSET]);
  c.ask(TYPE_URL.cluster, [SUBSET]);
  expect(c.names(c.last(TYPE_URL.cluster))).toEqual([SUBSET]);

  current = snapshot(false, '2', before);
  c.s.push(before);
  expect(c.last(TYPE_URL.routeConfiguration)?.version_info).toBe('2');
  return c;
}

test('a client that NACKs the new routes keeps the removed cluster only until the limit, then loses it', () => {
  const c = pushedRemoval();
  c.ask(TYPE_URL.routeConfiguration, ['reviews'], 'refused for the test');
  // It still names the subset (its old routes use it), and gets it while the bridge stands.
  c.ask(TYPE_URL.cluster, [SUBSET, PLAIN]);
  expect(c.names(c.last(TYPE_URL.cluster))).toEqual([SUBSET, PLAIN]);
  vi.advanceTimersByTime(14_000);
  expect(c.names(c.last(TYPE_URL.cluster))).toEqual([SUBSET, PLAIN]);
  vi.advanceTimersByTime(1_000);
  expect(c.names(c.last(TYPE_URL.cluster))).toEqual([PLAIN]);
  c.s.close();
});

test('a client that moves off the removed cluster loses it at once, and no timer is left behind', () => {
  const c = pushedRemoval();
  c.ask(TYPE_URL.routeConfiguration, ['reviews']);
  c.ask(TYPE_URL.cluster, [SUBSET, PLAIN]);
  expect(c.names(c.last(TYPE_URL.cluster))).toEqual([SUBSET, PLAIN]);
  c.ask(TYPE_URL.cluster, [PLAIN]);
  expect(c.names(c.last(TYPE_URL.cluster))).toEqual([PLAIN]);
  expect(vi.getTimerCount()).toBe(0);
  c.s.close();
});
