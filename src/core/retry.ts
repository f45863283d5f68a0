/**
 * When to try a delivery again (docs/api.md §5.6): a schedule of delays in seconds with ±20 % jitter, and a
 * receiver's `Retry-After` on 429/503 honoured within bounds. Pure: no clock, no I/O — the caller
 * passes `nowMs` and may pass the random source.
 */

/** "immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h" — the global default (`HOOKFLOW_RETRY_SCHEDULE`). */
export const DEFAULT_RETRY_SCHEDULE_S = [0, 5, 300, 1800, 7200, 18000, 36000, 36000];

const JITTER = 0.2;

/**
 * Delay before attempt number `attemptsMade + 1`, after `attemptsMade` (≥ 1) failed attempts;
 * undefined when the schedule is exhausted. `schedule[0]` is the first attempt's delay (normally
 * 0), so after the k-th failed attempt the next delay is `schedule[k]`, in seconds. The delay is
 * multiplied by a factor in [0.8, 1.2] drawn from `random()` (so that endpoints failing together
 * are not retried together); a 0 delay stays 0.
 *
 * Not for the first attempt (there is no "after" yet): an `attemptsMade` below 1 throws.
 */
export function nextRetryDelayMs(
  schedule: readonly number[],
  attemptsMade: number,
  random: () => number = Math.random,
): number | undefined {
  if (!Number.isInteger(attemptsMade) || attemptsMade < 1)
    throw new RangeError(`attemptsMade must be an integer ≥ 1 (got ${attemptsMade})`);
  if (attemptsMade >= schedule.length) return undefined;
  const baseMs = schedule[attemptsMade] * 1000;
  if (baseMs === 0) return 0;
  // Clamped so that a source returning exactly 1 (or a bit outside [0, 1)) stays within ±20 %.
  const r = Math.min(1, Math.max(0, random()));
  return Math.round(baseMs * (1 - JITTER + 2 * JITTER * r));
}

const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const LONG_DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const day = DAYS.join('|');
const month = MONTHS.join('|');
const time = '(\\d{2}):(\\d{2}):(\\d{2})';
/** The three HTTP-date forms of RFC 9110 §5.6.7, capturing day, month, year, h, m, s. */
const IMF_FIXDATE = new RegExp(`^(?:${day}), (\\d{2}) (${month}) (\\d{4}) ${time} GMT$`);
const RFC850_DATE = new RegExp(`^(?:${LONG_DAYS.join('|')}), (\\d{2})-(${month})-(\\d{2}) ${time} GMT$`);
const ASCTIME_DATE = new RegExp(`^(?:${day}) (${month}) ( \\d|\\d{2}) ${time} (\\d{4})$`);

/** The fields of an HTTP-date in any of its three forms (day and year as written), or undefined. */
function httpDateFields(value: string) {
  const fix = IMF_FIXDATE.exec(value);
  if (fix) return { d: fix[1], mon: fix[2], y: fix[3], h: fix[4], mi: fix[5], s: fix[6] };
  const rfc850 = RFC850_DATE.exec(value);
  if (rfc850)
    return { d: rfc850[1], mon: rfc850[2], y: rfc850[3], h: rfc850[4], mi: rfc850[5], s: rfc850[6] };
  const asc = ASCTIME_DATE.exec(value);
  if (asc) return { mon: asc[1], d: asc[2], h: asc[3], mi: asc[4], s: asc[5], y: asc[6] };
  return undefined;
}

/** Milliseconds of an HTTP-date, or undefined when it is none (or no real date, like 30 Feb). */
function parseHttpDate(value: string, nowMs: number): number | undefined {
  const f = httpDateFields(value);
  if (!f) return undefined;
  let year = Number(f.y);
  if (f.y.length === 2) {
    // RFC 850's two-digit year: the most recent one not more than 50 years ahead (RFC 9110 §5.6.7).
    const nowYear = new Date(nowMs).getUTCFullYear();
    year += Math.floor(nowYear / 100) * 100;
    if (year > nowYear + 50) year -= 100;
  }
  const [date, hours, minutes, seconds] = [Number(f.d), Number(f.h), Number(f.mi), Number(f.s)];
  if (hours > 23 || minutes > 59 || seconds > 59) return undefined;
  const ms = Date.UTC(year, MONTHS.indexOf(f.mon), date, hours, minutes, seconds);
  // Date.UTC rolls 30 Feb over into March; such a date is invalid, not a day later.
  if (new Date(ms).getUTCDate() !== date) return undefined;
  return ms;
}

/**
 * A `Retry-After` header value as a delay in milliseconds from `nowMs`: delta-seconds (digits
 * only) or an HTTP-date. Undefined when absent, invalid, or in the past.
 */
export function parseRetryAfterMs(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) {
    const ms = Number(v) * 1000;
    return Number.isFinite(ms) ? ms : undefined;
  }
  const at = parseHttpDate(v, nowMs);
  if (at === undefined || at < nowMs) return undefined;
  return at - nowMs;
}

/**
 * The delay after a failed attempt that answered `status` (undefined when there was no answer)
 * with the `retryAfter` header. On 429/503 a valid Retry-After is clamped into
 * [scheduled, 2 × scheduled]: it may lengthen the wait, but neither shorten it (a receiver cannot
 * make us retry faster than the schedule) nor stretch it beyond double (nor hold a message back
 * indefinitely). Otherwise the scheduled delay. Undefined when the schedule is exhausted.
 */
export function delayAfterFailureMs(input: {
  schedule: readonly number[];
  attemptsMade: number;
  status?: number;
  retryAfter?: string;
  nowMs: number;
  random?: () => number;
}): number | undefined {
  const scheduled = nextRetryDelayMs(input.schedule, input.attemptsMade, input.random);
  if (scheduled === undefined) return undefined;
  if (input.status !== 429 && input.status !== 503) return scheduled;
  const asked = parseRetryAfterMs(input.retryAfter, input.nowMs);
  if (asked === undefined) return scheduled;
  return Math.min(2 * scheduled, Math.max(scheduled, asked));
}
