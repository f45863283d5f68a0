/** SQL for the queue gauges of /metrics: how much due work waits for a worker, and since when. */
import { type Kysely, sql } from 'kysely';
import type { DB } from '../db/schema.ts';

/**
 * Counts stop here so a scrape stays cheap however large a backlog grows: a depth at the cap
 * means "at least this many".
 */
export const QUEUE_COUNT_CAP = 100_000;

export type QueueSnapshot = {
  /** Runs due now and held by no worker (queued, a delay that is over, or a lease that ran out). */
  runsDue: number;
  /** The earliest `run_at` among those runs; null when there are none. */
  oldestRunDueAt: Date | null;
  /** Deliveries due now and held by no worker. */
  deliveriesDue: number;
  oldestDeliveryDueAt: Date | null;
  /** Endpoints whose circuit is not closed (open, or half open with its probe out). */
  circuitsOpen: number;
};

/**
 * One round trip over the partial indexes that serve the workers' claims (`runs_due`,
 * `deliveries_due`): the same predicates as `claimRuns` and `claimDueDeliveries`, so the gauges
 * show exactly what a worker would claim next. Across all tenants: this is for the operator.
 */
export async function readQueueSnapshot(db: Kysely<DB>, now: Date): Promise<QueueSnapshot> {
  const r = await sql<{
    runs_due: string;
    runs_oldest: Date | null;
    deliveries_due: string;
    deliveries_oldest: Date | null;
    circuits_open: string;
  }>`
    select
      (select count(*) from (
         select 1 from runs
         where status in ('queued', 'running') and run_at <= ${now}
           and (locked_until is null or locked_until < ${now})
         limit ${QUEUE_COUNT_CAP}) r) as runs_due,
      (select min(run_at) from runs
         where status in ('queued', 'running') and run_at <= ${now}
           and (locked_until is null or locked_until < ${now})) as runs_oldest,
      (select count(*) from (
         select 1 from deliveries
         where status = 'pending' and next_attempt_at <= ${now}
           and (locked_until is null or locked_until < ${now})
         limit ${QUEUE_COUNT_CAP}) d) as deliveries_due,
      (select min(next_attempt_at) from deliveries
         where status = 'pending' and next_attempt_at <= ${now}
           and (locked_until is null or locked_until < ${now})) as deliveries_oldest,
      (select count(*) from endpoints where circuit_state <> 'closed') as circuits_open`.execute(db);
  const row = r.rows[0];
  return {
    runsDue: Number(row.runs_due),
    oldestRunDueAt: row.runs_oldest ? new Date(row.runs_oldest) : null,
    deliveriesDue: Number(row.deliveries_due),
    oldestDeliveryDueAt: row.deliveries_oldest ? new Date(row.deliveries_oldest) : null,
    circuitsOpen: Number(row.circuits_open),
  };
}
