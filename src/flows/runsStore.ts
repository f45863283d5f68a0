/** SQL for runs: the batched insert of accepted webhooks, reads for the API. */
import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/connect.ts';
import type { DB, RunStatus } from '../db/schema.ts';

export type NewRun = {
  tenantId: string;
  id: string;
  flowId: string;
  triggerNodeId: string;
  /** JSON text of {method, path, headers, query, body, ...} */
  trigger: string;
  rawBody: Buffer | null;
};

export const RUNS_CHANNEL = 'hookflow_runs';

/**
 * Inserts many queued runs in one statement (`unnest` of column arrays) and wakes run workers.
 * Either all rows are stored or none.
 */
export async function insertQueuedRuns(db: Kysely<DB>, runs: NewRun[]): Promise<void> {
  if (runs.length === 0) return;
  await sql`
    with inserted as (
      insert into runs (tenant_id, id, flow_id, trigger_node_id, status, trigger, raw_body)
      select t, i, f, n, 'queued', tr, rb
      from unnest(${runs.map((r) => r.tenantId)}::text[], ${runs.map((r) => r.id)}::text[],
                  ${runs.map((r) => r.flowId)}::text[], ${runs.map((r) => r.triggerNodeId)}::text[],
                  ${runs.map((r) => r.trigger)}::jsonb[], ${runs.map((r) => r.rawBody)}::bytea[])
           as u(t, i, f, n, tr, rb)
      returning 1
    )
    select pg_notify(${RUNS_CHANNEL}, '') from (select 1 from inserted limit 1) x
  `.execute(db);
}

const RUN_COLUMNS = [
  'id',
  'flow_id',
  'trigger_node_id',
  'status',
  'trigger',
  'nodes',
  'vars',
  'error',
  'attempts',
  'rerun_of',
  'created_at',
  'started_at',
  'finished_at',
] as const;

export async function getRun(database: Database, tenantId: string, id: string) {
  return database.db
    .selectFrom('runs')
    .select(RUN_COLUMNS)
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
}

/** Newest first; the cursor is the last id of the previous page (ids are time-ordered). */
export async function listRuns(
  database: Database,
  tenantId: string,
  opts: { flowId?: string; status?: RunStatus; limit: number; cursor?: string },
) {
  let q = database.db
    .selectFrom('runs')
    .select([
      'id',
      'flow_id',
      'trigger_node_id',
      'status',
      'error',
      'attempts',
      'created_at',
      'started_at',
      'finished_at',
    ])
    .select(sql<string>`trigger->>'method'`.as('method'))
    .where('tenant_id', '=', tenantId);
  if (opts.flowId) q = q.where('flow_id', '=', opts.flowId);
  if (opts.status) q = q.where('status', '=', opts.status);
  if (opts.cursor) q = q.where('id', '<', opts.cursor);
  return q.orderBy('id', 'desc').limit(opts.limit).execute();
}
