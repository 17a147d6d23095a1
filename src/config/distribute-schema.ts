/**
 * `loadBalancer.distribute`, Istio's `localityLbSetting.distribute`: a
 * written split of each client locality's traffic between localities
 * (balancer/locality-distribution.ts). Checked as istiod checks it: every
 * share from 1 to 100, each rule's shares adding up to 100, one `*` at the
 * end of a pattern at most, and no pattern overlapping one written before it
 * (among the rules' `from`s, and among one rule's `to`s).
 */
import { z } from 'zod';
import { type LocalityPattern, parseLocalityPattern, patternCovers } from '../balancer/locality-distribution.js';

/** Issues for patterns that are not localities or that overlap an earlier one, at `path(i)` for the i-th. */
function checkPatterns(texts: readonly string[], path: (i: number) => (string | number)[], ctx: z.RefinementCtx): void {
  const seen: [string, LocalityPattern][] = [];
  texts.forEach((text, i) => {
    const p = parseLocalityPattern(text);
    if (typeof p === 'string') {
      ctx.addIssue({ code: 'custom', path: path(i), message: `${JSON.stringify(text)} ${p}` });
      return;
    }
    const earlier = seen.find(([, q]) => patternCovers(q, p) || patternCovers(p, q));
    if (earlier !== undefined) {
      ctx.addIssue({ code: 'custom', path: path(i), message: `${JSON.stringify(text)} overlaps ${JSON.stringify(earlier[0])}; a locality may be named once` });
    }
    seen.push([text, p]);
  });
}

const share = z
  .number()
  .int({ error: (iss) => `must be a whole percentage from 1 to 100, got ${JSON.stringify(iss.input)}` })
  .min(1, { error: (iss) => `must be a whole percentage from 1 to 100, got ${JSON.stringify(iss.input)}` })
  .max(100, { error: (iss) => `must be a whole percentage from 1 to 100, got ${JSON.stringify(iss.input)}` });

const rule = z
  .strictObject({
    from: z.string(),
    to: z.record(z.string(), share),
  })
  .superRefine((r, ctx) => {
    const keys = Object.keys(r.to);
    if (keys.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['to'], message: 'must name at least one locality and its share' });
      return;
    }
    checkPatterns(keys, (i) => ['to', keys[i]!], ctx);
    const total = Object.values(r.to).reduce((sum, n) => sum + n, 0);
    if (total !== 100) ctx.addIssue({ code: 'custom', path: ['to'], message: `shares add up to ${total}; they must add up to 100` });
  });

export const distributeSchema = z
  .array(rule)
  .min(1, { error: 'must list at least one rule; leave it out for the zone and region order' })
  .superRefine((rules, ctx) => checkPatterns(rules.map((r) => r.from), (i) => [i, 'from'], ctx));
