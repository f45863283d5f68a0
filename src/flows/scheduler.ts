/**
 * The scheduler of schedule triggers (docs/api.md §4.8), run beside each run worker: it keeps the
 * enabled flows' schedules in memory (reloaded when a flow changes, through the cache
 * notifications, and at least every 30 s), computes each one's due tick with croner from the
 * process clock, and claims it in the database (claimTick: one run per tick across all processes).
 * Between ticks it sleeps until the next one — exactly to it, at most `maxSleepMs` — or until a
 * flow changes.
 */
import type { Cron } from 'croner';
import { newId } from '../core/ids.ts';
import type { Database } from '../db/connect.ts';
import { isDatabaseUnavailable } from '../db/errors.ts';
import { subscribeToCacheNotifications } from '../db/notifiedCache.ts';
import { cronJob, latestTickAtOrBefore } from '../nodes/schedule/cron.ts';
import { claimTick, listActiveSchedules, type ScheduleRow } from './scheduleStore.ts';

/** A tick first seen later than this is a missed one (catch_up "none" skips it). */
export const ON_TIME_MS = 10_000;
/** The schedules are read again at least this often (a missed notification costs no more). */
const RELOAD_MS = 30_000;

type Log = { warn(obj: unknown, msg?: string): void; error(obj: unknown, msg?: string): void };

type Entry = ScheduleRow & { job: Cron | null };

/** The trigger of a tick's run (docs/api.md §4.8): method SCHEDULE, the tick as its JSON body. */
export function scheduleTrigger(tick: Date, cron: string, timezone: string): Record<string, unknown> {
  return {
    method: 'SCHEDULE',
    path: '',
    headers: {},
    query: {},
    body: { time: tick.toISOString(), cron, timezone },
    body_kind: 'json',
    received_at: tick.toISOString(),
  };
}

export class Scheduler {
  private readonly now: () => number;
  private readonly maxSleepMs: number;
  private entries: Entry[] = [];
  private loadedAt = Number.NEGATIVE_INFINITY;
  private dirty = true;
  private stopped = true;
  private timer?: NodeJS.Timeout;
  private wakeUp?: () => void;
  private loop?: Promise<void>;
  private pass?: Promise<number>;
  private unsubscribe?: () => Promise<void>;

  constructor(
    private readonly opts: { database: Database; log: Log; now?: () => number; maxSleepMs?: number },
  ) {
    this.now = opts.now ?? Date.now;
    this.maxSleepMs = opts.maxSleepMs ?? 5000;
  }

  async start(): Promise<void> {
    this.stopped = false;
    const changed = () => {
      this.dirty = true;
      this.wake();
    };
    this.unsubscribe = await subscribeToCacheNotifications(
      this.opts.database,
      (payload) => {
        if (payload.startsWith('flow:') || payload.startsWith('tenant:') || !payload.includes(':')) changed();
      },
      changed,
    );
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake();
    await this.loop;
    await this.unsubscribe?.();
  }

  /**
   * One pass now, the schedules read afresh (tests with a fake clock call it after moving the
   * clock); the runs this process started.
   */
  runOnce(reload = true): Promise<number> {
    if (reload) this.dirty = true;
    // Passes never overlap: a second caller waits for the one under way, then makes its own.
    const next = (this.pass ?? Promise.resolve(0)).catch(() => 0).then(() => this.tickOnce());
    this.pass = next;
    return next;
  }

  private wake(): void {
    this.wakeUp?.();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let sleepMs = this.maxSleepMs;
      try {
        await this.runOnce(false);
        sleepMs = this.msToNextTick();
      } catch (err) {
        this.opts.log[isDatabaseUnavailable(err) ? 'warn' : 'error'](
          { err: (err as Error).message },
          'schedule pass failed; retrying',
        );
        this.dirty = true;
        sleepMs = 1000;
      }
      if (this.stopped) break;
      await new Promise<void>((resolve) => {
        this.wakeUp = resolve;
        this.timer = setTimeout(resolve, Math.max(1, Math.min(sleepMs, this.maxSleepMs)));
      });
      clearTimeout(this.timer);
      this.wakeUp = undefined;
    }
  }

  private async load(): Promise<void> {
    const now = this.now();
    if (!this.dirty && now - this.loadedAt < RELOAD_MS && now >= this.loadedAt) return;
    this.dirty = false;
    const rows = await listActiveSchedules(this.opts.database.db);
    const old = new Map(this.entries.map((e) => [`${e.tenant_id}:${e.flow_id}:${e.node_id}`, e]));
    this.entries = rows.map((r) => {
      const prev = old.get(`${r.tenant_id}:${r.flow_id}:${r.node_id}`);
      let job: Cron | null = null;
      if (prev && prev.cron === r.cron && prev.timezone === r.timezone) job = prev.job;
      else
        try {
          job = cronJob(r.cron, r.timezone);
        } catch {
          job = null; // refused on save; a zone this Node no longer knows has no ticks
        }
      // A tick this process took more recently than the row it read stays taken.
      const last =
        prev?.last_tick_at && (!r.last_tick_at || prev.last_tick_at > r.last_tick_at) && prev.cron === r.cron
          ? prev.last_tick_at
          : r.last_tick_at;
      return { ...r, last_tick_at: last, job };
    });
    this.loadedAt = now;
  }

  /** Claims every schedule's due tick; the runs this process started. */
  private async tickOnce(): Promise<number> {
    await this.load();
    const now = new Date(this.now());
    let started = 0;
    for (const e of this.entries) {
      if (!e.job) continue;
      const latest = latestTickAtOrBefore(e.job, now);
      const from = e.last_tick_at && e.last_tick_at > e.anchor_at ? e.last_tick_at : e.anchor_at;
      if (!latest || latest <= from) continue;
      // After downtime: "one" runs the latest missed tick once, "none" skips it (and all before it).
      const fire = e.catch_up === 'one' || now.getTime() - latest.getTime() <= ON_TIME_MS;
      const won = await claimTick(this.opts.database.db, {
        tenantId: e.tenant_id,
        flowId: e.flow_id,
        nodeId: e.node_id,
        cron: e.cron,
        timezone: e.timezone,
        tickAt: latest,
        fire,
        runId: newId('run'),
        trigger: scheduleTrigger(latest, e.cron, e.timezone),
      });
      if (won) started++;
      // Taken here or by another process: either way, this tick is done.
      e.last_tick_at = latest;
    }
    return started;
  }

  /** Milliseconds until the earliest next tick of any schedule (the cap when none is near). */
  private msToNextTick(): number {
    const now = this.now();
    let soonest = Number.POSITIVE_INFINITY;
    for (const e of this.entries) {
      if (!e.job) continue;
      const from = e.last_tick_at && e.last_tick_at > e.anchor_at ? e.last_tick_at : e.anchor_at;
      const ref = new Date(Math.max(now, from.getTime()));
      const next = e.job.nextRun(ref);
      if (next) soonest = Math.min(soonest, next.getTime() - now);
    }
    return Math.max(1, Math.min(this.maxSleepMs, soonest));
  }
}
