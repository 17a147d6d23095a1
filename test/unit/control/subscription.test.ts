import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/config/file-source.js';
import { validateConfig } from '../../../src/config/validate.js';
import { buildSnapshot } from '../../../src/control/snapshot.js';
import { Subscription } from '../../../src/control/subscription.js';
import { TYPE_URL } from '../../../src/discovery/xds/envoy-protos.js';

const snapshot = buildSnapshot(
  validateConfig(parseConfigText('services:\n  a: { endpoints: ["10.0.0.1:80"] }\n  b: { endpoints: ["10.0.0.2:80"] }\n', 't'), 't'),
  '1',
);

describe('xDS subscriptions (state of the world)', () => {
  it('treats an empty first LDS or CDS request as wildcard, and stays wildcard across ACKs', () => {
    const cds = new Subscription(TYPE_URL.cluster);
    expect(cds.update([], true)).toBe(true);
    expect(cds.wildcard).toBe(true);
    expect(cds.select(snapshot, true)!.resources.map((r) => r.name).sort()).toEqual([
      'outbound|80||a.default.svc.cluster.local',
      'outbound|80||b.default.svc.cluster.local',
    ]);
    expect(cds.update([], false)).toBe(false);
    expect(cds.wildcard).toBe(true);
  });

  it('never treats RDS or EDS as wildcard: an empty list means nothing', () => {
    const eds = new Subscription(TYPE_URL.clusterLoadAssignment);
    eds.update([], true);
    expect(eds.wildcard).toBe(false);
    expect(eds.select(snapshot, true)!.resources).toEqual([]);
  });

  it('accepts "*" as an explicit wildcard beside names', () => {
    const lds = new Subscription(TYPE_URL.listener);
    lds.update(['*', 'a'], true);
    expect(lds.wildcard).toBe(true);
    expect(lds.select(snapshot, true)!.resources.length).toBe(snapshot.resources.get(TYPE_URL.listener)!.size);
  });

  it('leaves out names that do not exist and sends nothing again when nothing changed', () => {
    const lds = new Subscription(TYPE_URL.listener);
    lds.update(['a', 'missing'], true);
    const first = lds.select(snapshot, true)!;
    expect(first.resources.map((r) => r.name)).toEqual(['a']);
    expect(first.version).toBe('1');
    expect(lds.select(snapshot, false)).toBeUndefined();
    expect(lds.update(['a', 'b'], false)).toBe(true);
    expect(lds.select(snapshot, true)!.resources.map((r) => r.name)).toEqual(['a', 'b']);
  });

  it('moves from wildcard to named when the client names resources', () => {
    const lds = new Subscription(TYPE_URL.listener);
    lds.update([], true);
    expect(lds.update(['b'], false)).toBe(true);
    expect(lds.wildcard).toBe(false);
    expect(lds.select(snapshot, true)!.resources.map((r) => r.name)).toEqual(['b']);
  });
});
