/**
 * The dns: provider against a real DNS server on 127.0.0.1 (test/helpers/dns-server.ts).
 *
 * Re-resolution is driven with fake timers; the DNS traffic itself is real
 * socket I/O, so the tests wait for it with event-driven helpers (Recorder,
 * waitForQueries) or by polling state on real timers. vi.waitFor is avoided on
 * purpose: under fake timers it advances the clock on every poll, which would
 * fire refresh rounds the test did not ask for.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { dnsProvider } from '../../../src/discovery/dns.js';
import type { Endpoint } from '../../../src/discovery/endpoint.js';
import type { DiscoveryProvider, DiscoveryTarget, EndpointListener } from '../../../src/discovery/source.js';
import { isMeshError, type MeshError } from '../../../src/errors.js';
import { TestDnsServer } from '../../helpers/dns-server.js';

// Captured before fake timers replace the globals: waiting on real I/O needs real time.
const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;
const REFRESH = 5000;
const WAIT_MS = 5000;

type Event = { kind: 'next'; endpoints: readonly Endpoint[] } | { kind: 'error'; error: MeshError };

/** Records listener calls; take*() await the next one not yet taken. */
class Recorder implements EndpointListener {
  readonly events: Event[] = [];
  #taken = 0;
  #wake: (() => void) | undefined;

  next(endpoints: readonly Endpoint[]): void {
    this.events.push({ kind: 'next', endpoints });
    this.#wake?.();
  }

  error(error: MeshError): void {
    this.events.push({ kind: 'error', error });
    this.#wake?.();
  }

  get untaken(): number {
    return this.events.length - this.#taken;
  }

  async take(): Promise<Event> {
    while (this.#taken >= this.events.length) {
      await new Promise<void>((resolve, reject) => {
        const guard = realSetTimeout(() => {
          this.#wake = undefined;
          reject(new Error(`no discovery event within ${WAIT_MS} ms; saw ${describeEvents(this.events)}`));
        }, WAIT_MS);
        this.#wake = () => {
          realClearTimeout(guard);
          this.#wake = undefined;
          resolve();
        };
      });
    }
    return this.events[this.#taken++]!;
  }

  async takeNext(): Promise<readonly Endpoint[]> {
    const e = await this.take();
    if (e.kind !== 'next') throw new Error(`expected next(), got error(): ${e.error.message}`);
    return e.endpoints;
  }

  async takeError(): Promise<MeshError> {
    const e = await this.take();
    if (e.kind !== 'error') throw new Error(`expected error(), got next(${keys(e.endpoints).join(', ')})`);
    return e.error;
  }
}

function describeEvents(events: Event[]): string {
  return JSON.stringify(events.map((e) => (e.kind === 'next' ? keys(e.endpoints) : e.error.message)));
}

function keys(endpoints: readonly Endpoint[]): string[] {
  return endpoints.map((e) => e.key);
}

function target(path: string, defaultPort?: number): DiscoveryTarget {
  return { uri: `dns:${path}`, path, service: 'reviews', namespace: 'default', defaultPort };
}

/** Poll `cond` on real time: for state that changes when real socket I/O completes. */
async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => realSetTimeout(resolve, 2));
  }
}

/** Let pending I/O callbacks and microtasks run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

let server: TestDnsServer;
let provider: DiscoveryProvider;

/**
 * Fire the refresh timers and wait until every watch's round has finished,
 * which is when each has scheduled its next round again.
 */
async function refresh(watches = 1): Promise<void> {
  vi.advanceTimersByTime(REFRESH);
  expect(vi.getTimerCount()).toBe(0);
  await until(() => vi.getTimerCount() === watches, 'the refresh round to finish');
}

beforeEach(async () => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'setInterval', 'clearTimeout', 'clearInterval'] });
  server = await TestDnsServer.start({
    'reviews.test': { A: ['10.0.0.1', '10.0.0.2'], AAAA: ['fd00::1'] },
    'v4only.test': { A: ['10.0.0.7'] },
  });
  provider = dnsProvider({ refreshIntervalMs: REFRESH, servers: [server.address], timeoutMs: 500, tries: 1 });
});

afterEach(async () => {
  await provider.close?.();
  await server.stop();
  vi.useRealTimers();
});

describe('dns: name resolution', () => {
  it('resolves host:port to A and AAAA endpoints, IPv6 keys bracketed', async () => {
    const rec = new Recorder();
    provider.watch(target('reviews.test:9080'), rec);
    const eps = await rec.takeNext();
    expect(keys(eps)).toEqual(['10.0.0.1:9080', '10.0.0.2:9080', '[fd00::1]:9080']);
    expect(eps[2]).toMatchObject({ address: 'fd00::1', port: 9080, weight: 1, priority: 0, health: 'healthy' });
    expect(server.queryCount('reviews.test', 'A')).toBe(1);
    expect(server.queryCount('reviews.test', 'AAAA')).toBe(1);
  });

  it('treats NODATA for one family as normal when the other answers', async () => {
    const rec = new Recorder();
    provider.watch(target('v4only.test:80'), rec);
    expect(keys(await rec.takeNext())).toEqual(['10.0.0.7:80']);
    server.set('v6only.test', { AAAA: ['fd00::9'] });
    const rec6 = new Recorder();
    provider.watch(target('v6only.test:80'), rec6);
    expect(keys(await rec6.takeNext())).toEqual(['[fd00::9]:80']);
  });

  it('fails the round when one family errors (not NODATA), rather than dropping its endpoints', async () => {
    const rec = new Recorder();
    provider.watch(target('reviews.test:9080'), rec);
    await rec.takeNext();
    server.servfailTypes.add('AAAA');
    await refresh();
    const err = await rec.takeError();
    expect(err.details).toMatchObject({ rrtype: 'AAAA', dnsCode: 'ESERVFAIL' });
  });

  it('uses the target default port for a bare host, and accepts dns:///host:port', async () => {
    const bare = new Recorder();
    provider.watch(target('v4only.test', 8443), bare);
    expect(keys(await bare.takeNext())).toEqual(['10.0.0.7:8443']);
    const grpcStyle = new Recorder();
    provider.watch(target('///v4only.test:81'), grpcStyle);
    expect(keys(await grpcStyle.takeNext())).toEqual(['10.0.0.7:81']);
  });

  it('passes IP literals through without querying', async () => {
    const rec = new Recorder();
    provider.watch(target('[fd00::5]:9080'), rec);
    expect(keys(await rec.takeNext())).toEqual(['[fd00::5]:9080']);
    expect(server.queries).toEqual([]);
  });
});

describe('dns: validate()', () => {
  it('gives a clear reason for unusable targets', () => {
    const v = (path: string, port?: number) => provider.validate?.(target(path, port));
    expect(v('reviews.test')).toMatch(/"reviews\.test" has no port/);
    expect(v('_http._tcp.reviews.test:80')).toMatch(/SRV name.*remove ":port"/);
    expect(v('reviews.test:99999')).toMatch(/port "99999" is not a port/);
    expect(v('//8.8.8.8/reviews.test:80')).toMatch(/authority/);
    expect(v('bad name:80')).toMatch(/not a DNS name/);
    expect(v('fd00::1:80')).toMatch(/has no port/); // a bare IPv6 literal, not host:port
    expect(v('fd00::1:80', 443)).toBeUndefined();
    expect(v('reviews.test:9080')).toBeUndefined();
    expect(v('reviews.test', 9080)).toBeUndefined();
    expect(v('_http._tcp.reviews.test')).toBeUndefined();
    expect(provider.validate?.({ ...target('reviews.test:80'), refreshIntervalMs: 0 })).toMatch(/refresh interval/);
  });

  it('reports an invalid target through error() when watched anyway, asynchronously', async () => {
    const rec = new Recorder();
    provider.watch(target('reviews.test'), rec);
    expect(rec.events).toEqual([]);
    const err = await rec.takeError();
    expect(err.code).toBe('MESH_DISCOVERY_FAILED');
    expect(err.retryable).toBe(false);
  });
});

describe('dns: SRV', () => {
  it('maps SRV records to endpoints with weights, dense priorities and resolved targets', async () => {
    server.set('_http._tcp.reviews.test', {
      SRV: [
        { target: 'a.test', port: 8080, priority: 10, weight: 60 },
        { target: 'b.test', port: 8081, priority: 10, weight: 40 },
        { target: '10.0.2.9', port: 9000, priority: 20, weight: 0 },
        // A stale record: its target no longer exists. It is skipped and does not claim a tier.
        { target: 'gone.test', port: 1, priority: 5, weight: 1 },
      ],
    });
    server.set('a.test', { A: ['10.0.1.1'] });
    server.set('b.test', { A: ['10.0.1.2'], AAAA: ['fd00::2'] });
    const rec = new Recorder();
    provider.watch(target('_http._tcp.reviews.test'), rec);
    const eps = await rec.takeNext();
    expect(eps.map((e) => [e.key, e.weight, e.priority])).toEqual([
      ['10.0.1.1:8080', 60, 0],
      ['10.0.1.2:8081', 40, 0],
      ['10.0.2.9:9000', 1, 1],
      ['[fd00::2]:8081', 40, 0],
    ]);
    expect(server.queryCount('10.0.2.9')).toBe(0);
    expect(server.queryCount('gone.test', 'A')).toBe(1);
  });

  it('re-resolves SRV targets and reports a change of weight', async () => {
    server.set('_grpc._tcp.reviews.test', { SRV: [{ target: 'a.test', port: 8080, weight: 1 }] });
    server.set('a.test', { A: ['10.0.1.1'] });
    const rec = new Recorder();
    provider.watch(target('_grpc._tcp.reviews.test'), rec);
    expect((await rec.takeNext()).map((e) => e.weight)).toEqual([1]);
    server.set('_grpc._tcp.reviews.test', { SRV: [{ target: 'a.test', port: 8080, weight: 7 }] });
    await refresh();
    expect((await rec.takeNext()).map((e) => [e.key, e.weight])).toEqual([['10.0.1.1:8080', 7]]);
  });
});

describe('dns: re-resolution', () => {
  it('picks up added and removed addresses, and stays quiet when nothing changed', async () => {
    const rec = new Recorder();
    provider.watch(target('reviews.test:9080'), rec);
    await rec.takeNext();

    server.set('reviews.test', { A: ['10.0.0.1', '10.0.0.2', '10.0.0.3'], AAAA: ['fd00::1'] });
    await refresh();
    expect(keys(await rec.takeNext())).toEqual(['10.0.0.1:9080', '10.0.0.2:9080', '10.0.0.3:9080', '[fd00::1]:9080']);

    const queriesBefore = server.queries.length;
    await refresh();
    expect(server.queries.length).toBe(queriesBefore + 2);
    expect(rec.untaken).toBe(0);

    server.set('reviews.test', { A: ['10.0.0.3'] });
    await refresh();
    expect(keys(await rec.takeNext())).toEqual(['10.0.0.3:9080']);
    expect(rec.untaken).toBe(0);
  });

  it("uses the target's refresh interval (mesh.dnsRefreshInterval) over the provider default", async () => {
    const rec = new Recorder();
    provider.watch({ ...target('v4only.test:80'), refreshIntervalMs: 60_000 }, rec);
    await rec.takeNext();
    vi.advanceTimersByTime(REFRESH);
    expect(vi.getTimerCount()).toBe(1); // the provider default would have fired by now
    server.set('v4only.test', { A: ['10.0.0.8'] });
    vi.advanceTimersByTime(60_000 - REFRESH);
    expect(vi.getTimerCount()).toBe(0);
    expect(keys(await rec.takeNext())).toEqual(['10.0.0.8:80']);
  });

  it('schedules refreshes on unref()d timers', async () => {
    const spy = vi.spyOn(globalThis, 'setTimeout');
    const rec = new Recorder();
    provider.watch(target('reviews.test:9080'), rec);
    await rec.takeNext();
    await refresh();
    expect(spy).toHaveBeenCalledTimes(2);
    for (const r of spy.mock.results) expect((r.value as NodeJS.Timeout).hasRef()).toBe(false);
  });
});

describe('dns: failures', () => {
  it('keeps the last good set on SERVFAIL, reports MESH_DISCOVERY_FAILED, then recovers', async () => {
    const rec = new Recorder();
    provider.watch(target('reviews.test:9080'), rec);
    await rec.takeNext();

    server.mode = 'servfail';
    await refresh();
    const err = await rec.takeError();
    expect(isMeshError(err)).toBe(true);
    expect(err.code).toBe('MESH_DISCOVERY_FAILED');
    expect(err.details).toMatchObject({ service: 'reviews', name: 'reviews.test', dnsCode: 'ESERVFAIL' });
    expect(err.message).toContain('"reviews"');
    expect(err.message).toContain('reviews.test');
    expect(err.message).toContain('ESERVFAIL');
    expect(err.message).toContain('keeping the last 3 endpoint(s)');
    expect(rec.untaken).toBe(0); // no next() with an empty set

    server.mode = 'answer';
    server.set('reviews.test', { A: ['10.0.0.9'] });
    await refresh();
    expect(keys(await rec.takeNext())).toEqual(['10.0.0.9:9080']);
  });

  it('keeps the last good set while the server is down and re-delivers it on recovery', async () => {
    const rec = new Recorder();
    provider.watch(target('reviews.test:9080'), rec);
    const good = keys(await rec.takeNext());

    await server.stop();
    await refresh();
    const err = await rec.takeError();
    expect(err.code).toBe('MESH_DISCOVERY_FAILED');
    expect(['ECONNREFUSED', 'ETIMEOUT']).toContain(err.details?.dnsCode);
    expect(rec.untaken).toBe(0);

    // Unchanged, but delivered: the consumer's signal that discovery works again.
    await server.listen();
    await refresh();
    expect(keys(await rec.takeNext())).toEqual(good);
  });

  it('reports a first-resolution failure with no endpoints, and delivers once the name appears', async () => {
    const rec = new Recorder();
    provider.watch(target('later.test:9080'), rec);
    const err = await rec.takeError();
    expect(err.code).toBe('MESH_DISCOVERY_FAILED');
    expect(err.details).toMatchObject({ name: 'later.test', dnsCode: 'ENOTFOUND' });
    expect(err.message).toContain('no endpoints known yet');
    expect(rec.events.filter((e) => e.kind === 'next')).toEqual([]);

    server.set('later.test', { A: ['10.0.3.1'] });
    await refresh();
    expect(keys(await rec.takeNext())).toEqual(['10.0.3.1:9080']);
  });
});

describe('dns: lifecycle', () => {
  it('never calls the listener synchronously from watch()', async () => {
    for (const path of ['reviews.test:9080', '10.0.0.1:9080']) {
      const rec = new Recorder();
      provider.watch(target(path), rec);
      expect(rec.events).toEqual([]);
      await rec.takeNext();
    }
  });

  it('calls nothing after close(), even with a lookup in flight', async () => {
    server.mode = 'hold';
    const closed = new Recorder();
    const watch = provider.watch(target('reviews.test:9080'), closed);
    await server.waitForQueries(2);
    watch.close();

    // A second watch whose answers arrive after the closed one's shows when they have been processed.
    const sentinel = new Recorder();
    const sentinelWatch = provider.watch(target('reviews.test:9080'), sentinel);
    await server.waitForQueries(4);
    server.release();
    await sentinel.takeNext();
    await settle();
    expect(closed.events).toEqual([]);
    expect(vi.getTimerCount()).toBe(1); // the sentinel's refresh only

    sentinelWatch.close();
    expect(vi.getTimerCount()).toBe(0);
    const queries = server.queries.length;
    vi.advanceTimersByTime(REFRESH * 10);
    await settle();
    expect(server.queries.length).toBe(queries);
    expect(sentinel.untaken).toBe(0);
  });

  it('provider close() stops every watch and refuses new ones', async () => {
    const a = new Recorder();
    const b = new Recorder();
    provider.watch(target('reviews.test:9080'), a);
    provider.watch(target('missing.test:9080'), b);
    await a.takeNext();
    await b.takeError();
    expect(vi.getTimerCount()).toBe(2);

    await provider.close?.();
    expect(vi.getTimerCount()).toBe(0);
    const queries = server.queries.length;
    vi.advanceTimersByTime(REFRESH * 10);
    await settle();
    expect(server.queries.length).toBe(queries);
    expect(a.untaken + b.untaken).toBe(0);
    expect(() => provider.watch(target('reviews.test:9080'), new Recorder())).toThrow(
      expect.objectContaining({ code: 'MESH_CLOSED' }),
    );
  });
});
