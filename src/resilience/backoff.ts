/**
 * How long to wait before a retry: exponential backoff with full jitter
 * (Envoy's schedule), unless the server said when to come back (Retry-After).
 * Jitter matters more than the exponent: without it, every client that saw
 * the same failure retries in the same millisecond.
 */

export interface BackoffConfig {
  /** First retry waits up to this long (Envoy default 25 ms). */
  baseMs: number;
  /** No wait is longer than this (Envoy default 10 × base). */
  maxMs: number;
}

/**
 * Wait before retry number `retryNumber` (1 for the first retry): uniform in
 * [0, min((2^n − 1) × base, max)), as Envoy's JitteredExponentialBackOff
 * draws it (its ceiling grows 1, 3, 7, 15 × base). Envoy draws from the
 * uncapped range and then clamps, piling waits up at exactly `max`; drawing
 * below the cap (AWS's "full jitter") keeps them spread. `random` is in [0, 1).
 */
export function backoffDelay(retryNumber: number, cfg: BackoffConfig, random: number): number {
  const n = retryNumber < 1 ? 1 : retryNumber;
  // 2 ** n is Infinity past n = 1023; min() still yields the cap.
  const ceiling = Math.min((2 ** n - 1) * cfg.baseMs, cfg.maxMs);
  const r = random < 0 ? 0 : random >= 1 ? 0.9999999999999999 : random;
  return Math.floor(r * ceiling);
}

const DELTA_SECONDS = /^\d{1,15}$/;
const MONTHS = 'Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec';
const MONTH_INDEX: Readonly<Record<string, number>> = Object.fromEntries(MONTHS.split('|').map((m, i) => [m, i]));
const DAY = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const LONG_DAY = '(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)';
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';
/** RFC 9110 §5.6.7: `Sun, 06 Nov 1994 08:49:37 GMT` (the one senders use). */
const IMF_FIXDATE = new RegExp(`^${DAY}, (\\d{2}) (${MONTHS}) (\\d{4}) ${TIME} GMT$`);
/** Obsolete RFC 850 form, which recipients must still accept: `Sunday, 06-Nov-94 08:49:37 GMT`. */
const RFC850_DATE = new RegExp(`^${LONG_DAY}, (\\d{2})-(${MONTHS})-(\\d{2}) ${TIME} GMT$`);
/** Obsolete asctime form: `Sun Nov  6 08:49:37 1994` (always UTC). */
const ASCTIME_DATE = new RegExp(`^${DAY} (${MONTHS}) ( \\d|\\d{2}) ${TIME} (\\d{4})$`);

/**
 * Milliseconds to wait from a Retry-After value: delta-seconds, or an
 * HTTP-date relative to `nowEpochMs` (a date in the past means "now", 0).
 * Undefined when absent or not valid; capping a long wait is the caller's
 * decision.
 */
export function parseRetryAfter(value: string | undefined, nowEpochMs: number): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (DELTA_SECONDS.test(v)) return Number(v) * 1000;
  const at = parseHttpDate(v, nowEpochMs);
  return at === undefined ? undefined : Math.max(0, at - nowEpochMs);
}

/** Epoch ms of an HTTP-date in any of its three forms, or undefined. */
function parseHttpDate(v: string, nowEpochMs: number): number | undefined {
  let m = IMF_FIXDATE.exec(v);
  if (m !== null) return utc(Number(m[3]), m[2]!, m[1]!, m[4]!, m[5]!, m[6]!);
  m = RFC850_DATE.exec(v);
  if (m !== null) return utc(fullYear(Number(m[3]), nowEpochMs), m[2]!, m[1]!, m[4]!, m[5]!, m[6]!);
  m = ASCTIME_DATE.exec(v);
  if (m !== null) return utc(Number(m[6]), m[1]!, m[2]!, m[3]!, m[4]!, m[5]!);
  return undefined;
}

/** RFC 9110: a two-digit year more than 50 years ahead means the most recent past year ending in those digits. */
function fullYear(yy: number, nowEpochMs: number): number {
  const thisYear = new Date(nowEpochMs).getUTCFullYear();
  let year = thisYear - (thisYear % 100) + yy;
  if (year > thisYear + 50) year -= 100;
  return year;
}

function utc(year: number, month: string, day: string, hh: string, mm: string, ss: string): number | undefined {
  const mon = MONTH_INDEX[month]!;
  const d = Number(day);
  const h = Number(hh);
  const mi = Number(mm);
  const s = Number(ss);
  // 60 allows a leap second, which counts as the first second of the next minute.
  if (h > 23 || mi > 59 || s > 60) return undefined;
  const midnight = Date.UTC(year, mon, d);
  // Date.UTC rolls 31 Feb over into March; a real date survives the round trip.
  if (d < 1 || new Date(midnight).getUTCDate() !== d) return undefined;
  return midnight + ((h * 60 + mi) * 60 + s) * 1000;
}
