/**
 * Fake timers replace the global `performance`; the mesh's clock reads
 * perf_hooks' own (src/net/monotonic-clock.ts). Reading the global through
 * this source keeps `vi.useFakeTimers()` in charge of every clock in the
 * mesh, as it would be of code that read the global directly.
 */
import { useClock } from '../../src/net/monotonic-clock.js';

useClock({ now: () => globalThis.performance.now() });
