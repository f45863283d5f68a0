/**
 * Cron expressions of the schedule trigger (docs/api.md §4.8), read by `croner`: five fields
 * (minute first) or six (seconds first), or a nickname (`@hourly`, `@daily`, …), in an IANA time
 * zone. Only computes times — croner's own timers are never started: the scheduler owns the clock.
 */
import { Cron } from 'croner';

export const DEFAULT_TIMEZONE = 'UTC';

/** Why a time zone is not one, or undefined. */
export function timezoneProblem(timezone: string): string | undefined {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    return undefined;
  } catch {
    return `"${timezone}" is not an IANA time zone (such as "UTC", "Europe/Oslo" or "America/New_York")`;
  }
}

/** Why a cron expression is not a valid one of five or six fields (or one that never fires), or undefined. */
export function cronProblem(cron: string): string | undefined {
  const text = cron.trim();
  const fields = text.split(/\s+/).length;
  if (!text.startsWith('@') && fields !== 5 && fields !== 6)
    return `"${cron}" has ${fields} field${fields === 1 ? '' : 's'}: a cron has five (minute hour day month weekday) or six (seconds first)`;
  let c: Cron;
  try {
    c = new Cron(text, { paused: true, timezone: DEFAULT_TIMEZONE });
  } catch (err) {
    return `"${cron}" is not a valid cron: ${(err as Error).message.replace(/^CronPattern: /, '')}`;
  }
  if (!c.nextRun(new Date(0))) return `"${cron}" never matches a date`;
  return undefined;
}

/** A schedule's croner job (paused: it only computes), or throws on an invalid cron or zone. */
export function cronJob(cron: string, timezone: string): Cron {
  return new Cron(cron.trim(), { paused: true, timezone });
}

/** The next `n` ticks strictly after `from`. */
export function nextTicks(job: Cron, from: Date, n: number): Date[] {
  return job.nextRuns(n, from);
}

/** The latest tick at or before `at`, or null. */
export function latestTickAtOrBefore(job: Cron, at: Date): Date | null {
  // previousRuns is strictly before its reference; a tick exactly at `at` counts too.
  if (job.match(at) && at.getMilliseconds() === 0) return new Date(at.getTime());
  return job.previousRuns(1, at)[0] ?? null;
}
