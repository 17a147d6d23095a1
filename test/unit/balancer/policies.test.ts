import { describe, expect, it } from 'vitest';
import { builtinPolicies } from '../../../src/balancer/policies.js';
import type { PickerFactory } from '../../../src/balancer/types.js';
import { LB_POLICIES } from '../../../src/config/schema.js';
import { Registry } from '../../../src/registry.js';
import { endpoints } from './support.js';

describe('builtinPolicies', () => {
  it('provides a factory for every policy name the config accepts, and only those', () => {
    expect(builtinPolicies().map(([name]) => name).sort()).toEqual([...LB_POLICIES].sort());
  });

  it('returns a fresh list each time, so meshes never share a registry', () => {
    const a = builtinPolicies();
    const b = builtinPolicies();
    expect(a).not.toBe(b);
    a.pop();
    expect(builtinPolicies()).toHaveLength(LB_POLICIES.length);
  });

  it('seeds a per-mesh registry whose factories build working pickers', () => {
    const registry = new Registry<PickerFactory>('load-balancer policy', builtinPolicies());
    const eps = endpoints(3);
    for (const name of LB_POLICIES) {
      const picker = registry.get(name)!([...eps], {});
      expect(picker.size).toBe(3);
      expect(eps).toContain(picker.pick(42));
    }
  });
});
