/**
 * The built-in load-balancer policies, by config name. A function rather
 * than a registered table: each Mesh seeds its own policy registry from it,
 * so importing this module registers nothing and meshes never share state.
 */
import type { LbPolicyName } from '../config/schema.js';
import { leastRequestPicker } from './least-request.js';
import { maglevPicker } from './maglev.js';
import { peakEwmaPicker } from './peak-ewma.js';
import { randomPicker } from './random.js';
import { ringHashPicker } from './ring-hash.js';
import { roundRobinPicker } from './round-robin.js';
import type { PickerFactory } from './types.js';

export function builtinPolicies(): Array<[LbPolicyName, PickerFactory]> {
  return [
    // Wrapped so the clock parameter (for simulations) can never be passed by accident.
    ['peak-ewma', (endpoints, options) => peakEwmaPicker(endpoints, options)],
    ['least-request', leastRequestPicker],
    ['round-robin', roundRobinPicker],
    ['random', randomPicker],
    ['ring-hash', ringHashPicker],
    ['maglev', maglevPicker],
  ];
}
