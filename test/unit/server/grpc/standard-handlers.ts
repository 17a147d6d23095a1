/** The probe's handlers with the decorators as syntax, compiled with the repository's tsconfig: TC39 standard decorators. */
import { Authorize, Idempotent, RateLimit, Timeout } from '../../../../src/index.js';
import { ProbeHandlers, runProbe } from './decorator-probe.js';

let mode = 'none';
function probe(...args: unknown[]): void {
  mode = typeof args[1] === 'object' ? 'standard' : 'legacy';
}

@Timeout(5_000)
class Handlers extends ProbeHandlers {
  @probe
  @RateLimit({ maxTokens: 2, fillInterval: 60_000 })
  @Idempotent()
  override limited(...args: Parameters<ProbeHandlers['limited']>) {
    super.limited(...args);
  }
  @Authorize({ principals: ['cluster.local/ns/shop/sa/admin'] })
  override guarded(...args: Parameters<ProbeHandlers['guarded']>) {
    super.guarded(...args);
  }
  @Timeout(100)
  override capped(...args: Parameters<ProbeHandlers['capped']>) {
    super.capped(...args);
  }
}

await runProbe(new Handlers(), mode);
