/**
 * The dashboard's arithmetic, as browser JavaScript source: the page embeds
 * it, and unit tests compile the same text, so what is tested is exactly
 * what runs. It is a string rather than compiled
 * functions because a bundler may rename a function, and its `toString()`
 * would then no longer match the name the page calls.
 *
 * `quantile` is Prometheus' `histogram_quantile` for one histogram:
 * cumulative bucket counts (the last one `+Inf`), linear interpolation
 * inside the bucket holding the rank, 0 as the lower edge of the first
 * bucket, and the highest finite bound when the rank falls in `+Inf`.
 */
export const DASHBOARD_MATH = `
function quantile(q, le, counts) {
  var total = counts[counts.length - 1];
  if (!(total > 0)) return null;
  var rank = q * total;
  var i = 0;
  while (i < counts.length - 1 && counts[i] < rank) i++;
  if (i >= le.length) return le.length ? le[le.length - 1] : null;
  var below = i === 0 ? 0 : counts[i - 1];
  var lower = i === 0 ? 0 : le[i - 1];
  var inside = counts[i] - below;
  if (i === 0 && le[0] <= 0) return le[0];
  return inside > 0 ? lower + (le[i] - lower) * ((rank - below) / inside) : le[i];
}
function delta(before, after) {
  var out = [];
  for (var i = 0; i < after.length; i++) {
    var d = after[i] - (before[i] || 0);
    if (d < 0) return after.slice();
    out.push(d);
  }
  return out;
}
function windowPoint(base, cur, qs) {
  var dt = (cur.t - base.t) / 1000;
  if (!(dt > 0)) return null;
  var req = cur.requests - base.requests;
  var err = cur.errors - base.errors;
  if (req < 0 || err < 0) { req = cur.requests; err = cur.errors; }
  var b = delta(base.buckets, cur.buckets);
  var p = { t: cur.t, rps: req / dt, err: req > 0 ? err / req : null, q: [] };
  for (var k = 0; k < qs.length; k++) p.q.push(quantile(qs[k], cur.le, b));
  return p;
}
`;
