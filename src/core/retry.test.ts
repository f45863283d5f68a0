import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RETRY_SCHEDULE_S,
  delayAfterFailureMs,
  nextRetryDelayMs,
  parseRetryAfterMs,
} from './retry.ts';

const mid = () => 0.5; // factor 1.0: no jitter
const low = () => 0; // factor 0.8
const high = () => 1; // factor 1.2

const NOW = Date.UTC(2025, 0, 15, 12, 0, 0); // Wed, 15 Jan 2025 12:00:00 GMT

describe('DEFAULT_RETRY_SCHEDULE_S', () => {
  it('is immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (docs/api.md §5.6)', () => {
    expect(DEFAULT_RETRY_SCHEDULE_S).toEqual([
      0,
      5,
      5 * 60,
      30 * 60,
      2 * 3600,
      5 * 3600,
      10 * 3600,
      10 * 3600,
    ]);
  });
});

describe('nextRetryDelayMs', () => {
  it('walks the schedule: after the k-th failed attempt the delay is schedule[k]', () => {
    const walked: (number | undefined)[] = [];
    for (let k = 1; k <= DEFAULT_RETRY_SCHEDULE_S.length; k++)
      walked.push(nextRetryDelayMs(DEFAULT_RETRY_SCHEDULE_S, k, mid));
    expect(walked).toEqual([
      5_000,
      300_000,
      1_800_000,
      7_200_000,
      18_000_000,
      36_000_000,
      36_000_000,
      undefined,
    ]);
  });

  it('is undefined once the schedule is exhausted, however far past it', () => {
    expect(nextRetryDelayMs([0, 5, 300], 3, mid)).toBeUndefined();
    expect(nextRetryDelayMs([0, 5, 300], 100, mid)).toBeUndefined();
    // A schedule of one entry allows the first attempt only.
    expect(nextRetryDelayMs([0], 1, mid)).toBeUndefined();
  });

  it('jitters within [0.8, 1.2] of the scheduled delay', () => {
    expect(nextRetryDelayMs([0, 300], 1, low)).toBe(240_000);
    expect(nextRetryDelayMs([0, 300], 1, high)).toBe(360_000);
    expect(nextRetryDelayMs([0, 300], 1, () => 0.25)).toBe(270_000);
    for (let i = 0; i < 1000; i++) {
      const d = nextRetryDelayMs(DEFAULT_RETRY_SCHEDULE_S, 2)!;
      expect(d).toBeGreaterThanOrEqual(240_000);
      expect(d).toBeLessThanOrEqual(360_000);
    }
  });

  it('keeps a random source that strays outside [0, 1] within the bounds', () => {
    expect(nextRetryDelayMs([0, 10], 1, () => -3)).toBe(8_000);
    expect(nextRetryDelayMs([0, 10], 1, () => 7)).toBe(12_000);
  });

  it('leaves a 0 delay at 0 (an immediate retry stays immediate)', () => {
    expect(nextRetryDelayMs([0, 0, 5], 1, high)).toBe(0);
    expect(nextRetryDelayMs([0, 0, 5], 2, high)).toBe(6_000);
  });

  it('gives whole milliseconds', () => {
    expect(Number.isInteger(nextRetryDelayMs([0, 7], 1, () => 0.3333))).toBe(true);
  });

  it('refuses an attempt count below 1 or not whole (a caller bug, not "exhausted")', () => {
    expect(() => nextRetryDelayMs(DEFAULT_RETRY_SCHEDULE_S, 0)).toThrow(RangeError);
    expect(() => nextRetryDelayMs(DEFAULT_RETRY_SCHEDULE_S, -1)).toThrow(RangeError);
    expect(() => nextRetryDelayMs(DEFAULT_RETRY_SCHEDULE_S, 1.5)).toThrow(RangeError);
  });

  it('uses Math.random by default', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 20; i++) seen.add(nextRetryDelayMs([0, 1000], 1)!);
    expect(seen.size).toBeGreaterThan(1);
  });
});

describe('parseRetryAfterMs', () => {
  it('reads delta-seconds', () => {
    expect(parseRetryAfterMs('120', NOW)).toBe(120_000);
    expect(parseRetryAfterMs('0', NOW)).toBe(0);
    expect(parseRetryAfterMs(' 30 ', NOW)).toBe(30_000);
  });

  it('reads an IMF-fixdate relative to now', () => {
    expect(parseRetryAfterMs('Wed, 15 Jan 2025 12:05:00 GMT', NOW)).toBe(300_000);
    expect(parseRetryAfterMs('Wed, 15 Jan 2025 12:00:00 GMT', NOW)).toBe(0);
  });

  it('reads the obsolete RFC 850 and asctime forms', () => {
    expect(parseRetryAfterMs('Wednesday, 15-Jan-25 13:00:00 GMT', NOW)).toBe(3_600_000);
    expect(parseRetryAfterMs('Wed Jan 15 12:00:10 2025', NOW)).toBe(10_000);
    expect(parseRetryAfterMs('Sat Feb  1 12:00:00 2025', NOW)).toBe(17 * 24 * 3_600_000);
  });

  it('is undefined for a date in the past', () => {
    expect(parseRetryAfterMs('Wed, 15 Jan 2025 11:59:59 GMT', NOW)).toBeUndefined();
    // A two-digit year more than 50 years ahead means the last century.
    expect(parseRetryAfterMs('Thursday, 15-Jan-99 12:00:00 GMT', NOW)).toBeUndefined();
  });

  it('is undefined when absent, empty, negative or garbage', () => {
    for (const v of [
      undefined,
      '',
      '   ',
      '-5',
      '+5',
      '1.5',
      '1e3',
      '0x10',
      'soon',
      'in 5 minutes',
      '5 seconds',
      '2025-01-15T12:05:00Z', // ISO 8601 is not an HTTP-date
      'Wed, 15 Jan 2025 12:05:00', // no GMT
      'Wed, 15 Jan 2025 12:05:00 PST',
      'Wed, 30 Feb 2025 12:05:00 GMT', // no such day
      'Wed, 15 Jan 2025 25:05:00 GMT',
      'Wed, 15 Foo 2025 12:05:00 GMT',
      '9'.repeat(400), // beyond any number
    ])
      expect(parseRetryAfterMs(v, NOW), String(v)).toBeUndefined();
  });
});

describe('delayAfterFailureMs', () => {
  // After the 2nd failed attempt of [0, 5, 300] the scheduled delay is 300 s (no jitter with `mid`).
  const base = { schedule: [0, 5, 300], attemptsMade: 2, nowMs: NOW, random: mid };

  it('is the scheduled delay without an answer, or without Retry-After', () => {
    expect(delayAfterFailureMs(base)).toBe(300_000);
    expect(delayAfterFailureMs({ ...base, status: 429 })).toBe(300_000);
    expect(delayAfterFailureMs({ ...base, status: 503, retryAfter: 'garbage' })).toBe(300_000);
  });

  it('honours Retry-After on 429 and 503 when it asks for longer, up to double', () => {
    expect(delayAfterFailureMs({ ...base, status: 429, retryAfter: '450' })).toBe(450_000);
    expect(delayAfterFailureMs({ ...base, status: 503, retryAfter: '450' })).toBe(450_000);
    expect(delayAfterFailureMs({ ...base, status: 429, retryAfter: 'Wed, 15 Jan 2025 12:08:00 GMT' })).toBe(
      480_000,
    );
  });

  it('clamps a Retry-After beyond double the scheduled delay down to double', () => {
    expect(delayAfterFailureMs({ ...base, status: 429, retryAfter: '86400' })).toBe(600_000);
    expect(delayAfterFailureMs({ ...base, status: 503, retryAfter: 'Thu, 16 Jan 2025 12:00:00 GMT' })).toBe(
      600_000,
    );
  });

  it('never retries sooner than scheduled, however short the Retry-After', () => {
    expect(delayAfterFailureMs({ ...base, status: 429, retryAfter: '0' })).toBe(300_000);
    expect(delayAfterFailureMs({ ...base, status: 503, retryAfter: '10' })).toBe(300_000);
  });

  it('clamps around the jittered delay', () => {
    const jittered = { ...base, random: low }; // 240 s
    expect(delayAfterFailureMs(jittered)).toBe(240_000);
    expect(delayAfterFailureMs({ ...jittered, status: 429, retryAfter: '1' })).toBe(240_000);
    expect(delayAfterFailureMs({ ...jittered, status: 429, retryAfter: '100000' })).toBe(480_000);
  });

  it('ignores Retry-After on other statuses', () => {
    for (const status of [500, 502, 504, 404, 410, 301])
      expect(delayAfterFailureMs({ ...base, status, retryAfter: '450' }), String(status)).toBe(300_000);
  });

  it('keeps a scheduled 0 at 0 (double of nothing is nothing)', () => {
    expect(
      delayAfterFailureMs({ ...base, schedule: [0, 0], attemptsMade: 1, status: 429, retryAfter: '60' }),
    ).toBe(0);
  });

  it('is undefined when the schedule is exhausted, Retry-After or not', () => {
    expect(delayAfterFailureMs({ ...base, attemptsMade: 3 })).toBeUndefined();
    expect(delayAfterFailureMs({ ...base, attemptsMade: 3, status: 429, retryAfter: '10' })).toBeUndefined();
  });
});
