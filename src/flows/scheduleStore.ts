/**
 * SQL of the schedule trigger (docs/api.md §4.8): the `schedules` rows written with their flow, the
 * scheduler's read of them, the one statement that claims a tick and queues its run, and the purge
 * of old ticks.
 */
import { type Kysely, sql, type Transaction } from 'kysely';
import type { FlowNode } from '../core/flowDocument.ts';
import type { Database } from '../db/connect.ts';
import type { DB } from '../db/schema.ts';
import { RUNS_CHANNEL } from './runsStore.ts';

export type ScheduleRow = {
  tenant_id: string;
  flow_id: string;
  node_id: string;
  cron: string;
  timezone: string;
  catch_up: string;
  anchor_at: Date;
  last_tick_at: Date | null;
};

/**
 * Makes a flow's `schedules` rows match its document, in the flow's own transaction: only an
 * enabled flow has rows (a disabled one has no ticks, and enabling it starts counting afresh); a new
 * schedule node, or one whose cron or time zone changed, counts from `at` (no tick before it runs);
 * an unchanged one keeps its anchor and last tick.
 */
export async function syncSchedules(
  tx: Transaction<DB>,
  tenantId: string,
  flowId: string,
  doc: { enabled: boolean; nodes: FlowNode[] },
  at: Date,
): Promise<void> {
  const nodes = doc.enabled ? doc.nodes.filter((n) => n.type === 'schedule') : [];
  let del = tx.deleteFrom('schedules').where('tenant_id', '=', tenantId).where('flow_id', '=', flowId);
  if (nodes.length)
    del = del.where(
      'node_id',
      'not in',
      nodes.map((n) => n.id),
    );
  await del.execute();
  if (!nodes.length) return;
  const anchor = at.toISOString();
  await tx
    .insertInto('schedules')
    .values(
      nodes.map((n) => ({
        tenant_id: tenantId,
        flow_id: flowId,
        node_id: n.id,
        cron: String(n.config.cron),
        timezone: String(n.config.timezone),
        catch_up: String(n.config.catch_up),
        anchor_at: anchor,
      })),
    )
    .onConflict((oc) =>
      oc.columns(['tenant_id', 'flow_id', 'node_id']).doUpdateSet({
        catch_up: sql`excluded.catch_up`,
        anchor_at: sql`case when schedules.cron = excluded.cron and schedules.timezone = excluded.timezone
                       then schedules.anchor_at else excluded.anchor_at end`,
        last_tick_at: sql`case when schedules.cron = excluded.cron and schedules.timezone = excluded.timezone
                          then schedules.last_tick_at end`,
        cron: sql`excluded.cron`,
        timezone: sql`excluded.timezone`,
      }),
    )
    .execute();
}

/** Every schedule of every enabled flow (the scheduler's view; all tenants, like the run queue). */
export async function listActiveSchedules(db: Kysely<DB>): Promise<ScheduleRow[]> {
  return (await db
    .selectFrom('schedules as s')
    .innerJoin('flows as f', (j) =>
      j.onRef('f.tenant_id', '=', 's.tenant_id').onRef('f.id', '=', 's.flow_id'),
    )
    .where('f.enabled', '=', true)
    .select([
      's.tenant_id',
      's.flow_id',
      's.node_id',
      's.cron',
      's.timezone',
      's.catch_up',
      's.anchor_at',
      's.last_tick_at',
    ])
    .execute()) as ScheduleRow[];
}

export type TickClaim = {
  tenantId: string;
  flowId: string;
  nodeId: string;
  cron: string;
  timezone: string;
  tickAt: Date;
  /** Start a run (false: a missed tick skipped by catch_up "none" — only the last tick moves). */
  fire: boolean;
  runId: string;
  trigger: Record<string, unknown>;
};

/**
 * Takes a tick, in one statement: moves the schedule's last tick to it — only if the schedule is
 * still the one computed from (same cron and zone, its flow enabled), the tick is after its anchor
 * and after the last tick taken — then records the tick (its primary key refuses a second) and
 * queues its run, and wakes the run workers. Processes racing on one tick: the row lock of the
 * first makes the others find the tick taken, so exactly one run starts. Returns whether this call
 * started the run.
 */
export async function claimTick(db: Kysely<DB>, c: TickClaim): Promise<boolean> {
  const tick = c.tickAt.toISOString();
  const r = await sql<{ id: string }>`
    with moved as (
      update schedules set last_tick_at = ${tick}::timestamptz
      where tenant_id = ${c.tenantId} and flow_id = ${c.flowId} and node_id = ${c.nodeId}
        and cron = ${c.cron} and timezone = ${c.timezone}
        and anchor_at < ${tick}::timestamptz
        and (last_tick_at is null or last_tick_at < ${tick}::timestamptz)
        and exists (select 1 from flows f where f.tenant_id = ${c.tenantId} and f.id = ${c.flowId} and f.enabled)
      returning tenant_id
    ), ticked as (
      insert into schedule_ticks (tenant_id, flow_id, node_id, tick_at, run_id)
      select ${c.tenantId}, ${c.flowId}, ${c.nodeId}, ${tick}::timestamptz, ${c.runId}
      from moved where ${c.fire}::boolean
      on conflict do nothing
      returning run_id
    ), started as (
      insert into runs (tenant_id, id, flow_id, trigger_node_id, status, trigger)
      select ${c.tenantId}, run_id, ${c.flowId}, ${c.nodeId}, 'queued', ${JSON.stringify(c.trigger)}::jsonb
      from ticked
      returning id
    )
    select id, pg_notify(${RUNS_CHANNEL}, '') from started
  `.execute(db);
  return r.rows.length > 0;
}

/** Ticks older than a day (their schedule's last tick stays in `schedules`); a batch at a time. */
export async function purgeOldScheduleTicks(database: Database, now: Date, batch = 1000): Promise<number> {
  const r = await sql`
    delete from schedule_ticks where ctid in (
      select ctid from schedule_ticks where tick_at < ${new Date(now.getTime() - 86_400_000).toISOString()}::timestamptz
      limit ${batch})
  `.execute(database.db);
  return Number(r.numAffectedRows ?? 0);
}
