import { describe, expect, test } from 'vitest';
import { compileAuthorization } from '../../../src/security/authz/compile.js';
import { parseAuthorizationPolicies } from '../../../src/security/authz/parse.js';
import { InboundGuard } from '../../../src/server/inbound-guard.js';
import { InboundView, type LocalSide } from '../../../src/server/inbound-view.js';
import type { Peer } from '../../../src/server/peer.js';

const PLAINTEXT: Peer = { spiffeId: undefined, principal: undefined, namespace: undefined, authenticated: false, address: '10.0.0.9' };

/** A local side that counts how often each attribute is read. */
function countingSocket(side: { localAddress?: string; localPort?: number; servername?: string | false }) {
  const reads = { localAddress: 0, localPort: 0, servername: 0 };
  const socket: LocalSide = {
    get localAddress() {
      reads.localAddress++;
      return side.localAddress;
    },
    get localPort() {
      reads.localPort++;
      return side.localPort;
    },
    get servername() {
      reads.servername++;
      return side.servername;
    },
  };
  return { socket, reads };
}

/** Headers whose `host` counts its reads. */
function countingHeaders(host: string) {
  const reads = { host: 0 };
  const headers: Record<string, string | undefined> = {};
  Object.defineProperty(headers, 'host', {
    enumerable: true,
    configurable: true,
    get() {
      reads.host++;
      return host;
    },
  });
  return { headers, reads };
}

/** The policies in the compact form the mesh config takes, validated and compiled for namespace default. */
function authorizer(policies: unknown) {
  return compileAuthorization(parseAuthorizationPolicies(policies), { namespace: 'default' });
}

describe('InboundView', () => {
  test('reads the method upper case, the host from host or :authority, and the local side', () => {
    const { socket } = countingSocket({ localAddress: '::ffff:127.0.0.1', localPort: 8443, servername: 'api.example' });
    const view = new InboundView('get', '/x?y=1', { host: 'Api.Example:8443' }, PLAINTEXT, socket);
    expect(view.method).toBe('GET');
    expect(view.path).toBe('/x?y=1');
    expect(view.host).toBe('Api.Example:8443');
    expect(view.destinationIp).toBe('127.0.0.1');
    expect(view.port).toBe(8443);
    expect(view.sni).toBe('api.example');
    expect(view.sourceIp).toBe('10.0.0.9');
    expect(view.principal).toBeUndefined();

    const h2 = new InboundView(undefined, '/', { ':authority': ['a.example', 'b.example'] }, PLAINTEXT, { servername: false });
    expect(h2.method).toBe('GET');
    expect(h2.host).toBe('a.example');
    expect(h2.sni).toBeUndefined();
    expect(h2.port).toBe(0);
    expect(h2.destinationIp).toBeUndefined();
    expect(new InboundView('M-search', '/', {}, PLAINTEXT, {}).method).toBe('M-SEARCH');
    expect(new InboundView('POST', '/', {}, PLAINTEXT, {}).host).toBe('');
  });

  test('a method and path policy reads neither the socket nor the host header', () => {
    const policies = [{ name: 'users-read', rules: [{ to: [{ methods: ['GET'], paths: ['/users/*'] }] }] }];
    const authz = authorizer(policies);
    const { socket, reads } = countingSocket({ localAddress: '127.0.0.1', localPort: 80 });
    const { headers, reads: headerReads } = countingHeaders('svc');
    expect(authz.check(new InboundView('GET', '/users/42', headers, PLAINTEXT, socket)).allowed).toBe(true);
    expect(authz.check(new InboundView('GET', '/orders/1', headers, PLAINTEXT, socket)).allowed).toBe(false);
    expect(reads).toEqual({ localAddress: 0, localPort: 0, servername: 0 });
    expect(headerReads.host).toBe(0);
  });

  test('each attribute is read once however many policies ask for it', () => {
    const policies = [
      { name: 'a', rules: [{ to: [{ ports: ['9000'], hosts: ['other'] }] }] },
      { name: 'b', rules: [{ to: [{ ports: ['9001'], hosts: ['svc'] }], when: [{ key: 'destination.ip', values: ['10.0.0.0/8'] }] }] },
      { name: 'c', rules: [{ to: [{ ports: ['80'], hosts: ['svc'] }], when: [{ key: 'connection.sni', values: ['x'] }] }] },
      { name: 'd', rules: [{ to: [{ ports: ['80'], hosts: ['svc'] }] }] },
    ];
    const authz = authorizer(policies);
    const { socket, reads } = countingSocket({ localAddress: '127.0.0.1', localPort: 80 });
    const { headers, reads: headerReads } = countingHeaders('svc');
    const decision = authz.check(new InboundView('GET', '/', headers, PLAINTEXT, socket));
    expect(decision.policy).toBe('default/d');
    expect(reads).toEqual({ localAddress: 1, localPort: 1, servername: 1 });
    expect(headerReads.host).toBe(1);
  });
});

describe('InboundGuard with a lazily read view', () => {
  test('removing claim headers does not change the host the decision sees', () => {
    const policies = [{ name: 'svc-only', rules: [{ to: [{ hosts: ['svc'] }] }] }];
    const guard = new InboundGuard(undefined, authorizer(policies), ['host']);
    const headers: Record<string, string> = { host: 'svc' };
    const view = new InboundView('GET', '/', headers, PLAINTEXT, {});
    expect(() => guard.admitNow(view, headers)).not.toThrow();
    expect(headers.host).toBeUndefined();
    expect(view.host).toBe('svc');
  });

  test('a denied request is refused with MESH_PERMISSION_DENIED', () => {
    const policies = [{ name: 'port-80', rules: [{ to: [{ ports: ['80'] }] }] }];
    const guard = new InboundGuard(undefined, authorizer(policies));
    const headers = { host: 'svc' };
    expect(() => guard.admitNow(new InboundView('GET', '/', headers, PLAINTEXT, { localPort: 80 }), headers)).not.toThrow();
    expect(() => guard.admitNow(new InboundView('GET', '/', headers, PLAINTEXT, { localPort: 81 }), headers)).toThrow(
      expect.objectContaining({ code: 'MESH_PERMISSION_DENIED' }),
    );
  });

  test('admit pins the local side before it awaits authentication', async () => {
    const policies = [{ name: 'port-80', rules: [{ to: [{ ports: ['80'] }] }] }];
    const guard = new InboundGuard(undefined, authorizer(policies));
    const side: { localPort?: number } = { localPort: 80 };
    const { socket, reads } = countingSocket(side);
    const headers = { host: 'svc' };
    const pending = guard.admit(new InboundView('GET', '/', headers, PLAINTEXT, socket), headers);
    expect(reads.localPort).toBe(1);
    // As a closed socket forgets its address.
    delete side.localPort;
    await expect(pending).resolves.toBeDefined();
  });
});
