/** SQL for shadow replays (docs/api.md §3.14): replays, their items, and what replay runs compare. */
import { sql } from 'kysely';
import type { Database } from '../db/connect.ts';
import type { NodeRecord } from '../flows/engine.ts';
import { RUNS_CHANNEL } from '../flows/runsStore.ts';

/**
 * The node records of a run and of the runs it started (sub-flows, at any depth): what a replay run
 * of it is answered from.
 */
export async function recordedNodes(
  database: Database,
  tenantId: string,
  runId: string,
): Promise<NodeRecord[]> {
  const r = await sql<{ nodes: NodeRecord[] | null }>`
    with recursive tree(id, depth) as (
      select ${runId}::text, 0
      union all
      select c.id, t.depth + 1 from runs c join tree t on c.tenant_id = ${tenantId} and c.parent_run_id = t.id
      where t.depth < 10
    )
    select r.nodes from tree t join runs r on r.tenant_id = ${tenantId} and r.id = t.id
    order by t.depth`.execute(database.db);
  return r.rows.flatMap((x) => x.nodes ?? []);
}

export type ReplayTarget = { version: number | null; draftRevision: number | null };

/** The runs a replay may take: production runs of the flow that have ended. */
const REPLAYABLE = ['succeeded', 'failed'] as const;

/**
 * Which of these runs cannot be replayed (not of this flow and tenant, a test or replay run, or not
 * ended yet), with why.
 */
export async function unusableRuns(
  database: Database,
  tenantId: string,
  flowId: string,
  runIds: string[],
): Promise<{ run_id: string; reason: string }[]> {
  const rows = await database.db
    .selectFrom('runs')
    .select(['id', 'flow_id', 'status', 'mode'])
    .where('tenant_id', '=', tenantId)
    .where('id', 'in', runIds)
    .execute();
  const byId = new Map(rows.map((r) => [r.id, r]));
  const out: { run_id: string; reason: string }[] = [];
  for (const id of runIds) {
    const r = byId.get(id);
    if (!r || r.flow_id !== flowId) out.push({ run_id: id, reason: 'not a run of this flow' });
    else if (r.mode) out.push({ run_id: id, reason: `a ${r.mode} run (only production runs are replayed)` });
    else if (!(REPLAYABLE as readonly string[]).includes(r.status))
      out.push({ run_id: id, reason: `${r.status}: only runs that ended are replayed` });
  }
  return out;
}

/** Production runs of the flow that ended, created in [since, until), newest first. */
export async function replayableRuns(
  database: Database,
  tenantId: string,
  flowId: string,
  opts: { since?: Date; until?: Date; limit: number },
): Promise<string[]> {
  let q = database.db
    .selectFrom('runs')
    .select('id')
    .where('tenant_id', '=', tenantId)
    .where('flow_id', '=', flowId)
    .where('mode', 'is', null)
    .where('status', 'in', [...REPLAYABLE]);
  if (opts.since) q = q.where('created_at', '>=', opts.since);
  if (opts.until) q = q.where('created_at', '<', opts.until);
  return (await q.orderBy('id', 'desc').limit(opts.limit).execute()).map((r) => r.id);
}

export async function countRunningReplays(database: Database, tenantId: string): Promise<number> {
  const r = await database.db
    .selectFrom('replays')
    .select(sql<number>`count(*)::int`.as('n'))
    .where('tenant_id', '=', tenantId)
    .where('status', '=', 'running')
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** A replay and its items (their replay runs are started by the coordinator, a few at a time). */
export async function insertReplay(
  database: Database,
  r: {
    tenantId: string;
    id: string;
    flowId: string;
    target: ReplayTarget;
    runIds: string[];
    replayRunIds: string[];
    createdBy?: string;
  },
): Promise<void> {
  await database.db.transaction().execute(async (tx) => {
    await tx
      .insertInto('replays')
      .values({
        tenant_id: r.tenantId,
        id: r.id,
        flow_id: r.flowId,
        version: r.target.version,
        draft_revision: r.target.draftRevision,
        total: r.runIds.length,
        created_by: r.createdBy ?? null,
      })
      .execute();
    const items = JSON.stringify(r.runIds.map((id, i) => ({ p: i, o: id, n: r.replayRunIds[i] })));
    await sql`
      insert into replay_items (tenant_id, replay_id, position, run_id, replay_run_id)
      select ${r.tenantId}, ${r.id}, p, o, n from json_to_recordset(${items}::json) as x(p int, o text, n text)`.execute(
      tx,
    );
    await sql`select pg_notify(${REPLAYS_CHANNEL}, '')`.execute(tx);
  });
}

export const REPLAYS_CHANNEL = 'hookflow_replays';

/** Running replays, oldest first (the coordinator's round). */
export async function runningReplays(database: Database, limit = 100) {
  return database.db
    .selectFrom('replays')
    .select(['tenant_id', 'id'])
    .where('status', '=', 'running')
    .orderBy('created_at')
    .limit(limit)
    .execute();
}

type Outcome = { status: string; error: string | null; vars: Record<string, unknown>; response: unknown };

/**
 * One step of a replay, in one transaction holding its row (another coordinator skips it): compares
 * the items whose replay run ended (`compare` gives each its status and differences), starts replay
 * runs for pending items while the tenant has fewer than `window` in flight, and marks the replay done
 * when nothing is left. Returns whether it did anything.
 */
export async function stepReplay(
  database: Database,
  tenantId: string,
  replayId: string,
  opts: {
    window: number;
    now: Date;
    compare: (
      original: Outcome | null,
      replay: Outcome,
    ) => { status: 'same' | 'different' | 'failed'; differences: unknown[] };
  },
): Promise<boolean> {
  return database.db.transaction().execute(async (tx) => {
    const replay = (
      await sql<{ flow_id: string; version: number | null; draft_revision: number | null }>`
        select flow_id, version, draft_revision from replays
        where tenant_id = ${tenantId} and id = ${replayId} and status = 'running'
        for update skip locked`.execute(tx)
    ).rows[0];
    if (!replay) return false;
    // One step per tenant at a time, so its window holds across processes.
    await sql`select pg_advisory_xact_lock(hashtext(${`replay:${tenantId}`}))`.execute(tx);
    let changed = false;

    // 1. Items whose replay run ended: compared with their original.
    const ended = await sql<{
      position: number;
      o_status: string | null;
      o_error: string | null;
      o_vars: Record<string, unknown> | null;
      o_response: unknown;
      r_status: string;
      r_error: string | null;
      r_vars: Record<string, unknown> | null;
      r_response: unknown;
    }>`
      select i.position, o.status as o_status, o.error as o_error, o.vars as o_vars, o.response as o_response,
        r.status as r_status, r.error as r_error, r.vars as r_vars, r.response as r_response
      from replay_items i
      join runs r on r.tenant_id = i.tenant_id and r.id = i.replay_run_id
      left join runs o on o.tenant_id = i.tenant_id and o.id = i.run_id
      where i.tenant_id = ${tenantId} and i.replay_id = ${replayId} and i.status = 'running'
        and r.status in ('succeeded', 'failed', 'cancelled')`.execute(tx);
    if (ended.rows.length) {
      changed = true;
      const results = ended.rows.map((x) => {
        const c = opts.compare(
          x.o_status === null
            ? null
            : { status: x.o_status, error: x.o_error, vars: x.o_vars ?? {}, response: x.o_response ?? null },
          { status: x.r_status, error: x.r_error, vars: x.r_vars ?? {}, response: x.r_response ?? null },
        );
        return { p: x.position, s: c.status, d: c.differences };
      });
      await sql`
        with u as (select * from json_to_recordset(${JSON.stringify(results)}::json) as u(p int, s text, d jsonb)),
        upd as (
          update replay_items i set status = u.s, differences = u.d from u
          where i.tenant_id = ${tenantId} and i.replay_id = ${replayId} and i.position = u.p
          returning u.s
        )
        update replays set
          done = done + (select count(*) from upd),
          same = same + (select count(*) from upd where s = 'same'),
          different = different + (select count(*) from upd where s = 'different'),
          failed = failed + (select count(*) from upd where s = 'failed')
        where tenant_id = ${tenantId} and id = ${replayId}`.execute(tx);
    }

    // 2. Start replay runs while the tenant has room: its replays never take more than `window`
    //    (started - done of each is in flight). Items start in position order, from `started`.
    const counts = (
      await sql<{ in_flight: number; started: number; total: number; done: number }>`
        select (select coalesce(sum(started - done), 0)::int from replays
                where tenant_id = ${tenantId} and status = 'running') as in_flight,
               started, total, done
        from replays where tenant_id = ${tenantId} and id = ${replayId}`.execute(tx)
    ).rows[0]!;
    let done = counts.done;
    const room = Math.min(Math.max(0, opts.window - counts.in_flight), counts.total - counts.started);
    if (room > 0) {
      const from = counts.started;
      const started = await sql<{ position: number; found: boolean }>`
        with next as (
          select i.position, i.run_id, i.replay_run_id from replay_items i
          where i.tenant_id = ${tenantId} and i.replay_id = ${replayId}
            and i.position >= ${from}::int and i.position < ${from + room}::int
        ), ins as (
          insert into runs (tenant_id, id, flow_id, trigger_node_id, status, trigger, raw_body, mode, replay_id, replay_of,
                            flow_version, draft_revision)
          select o.tenant_id, n.replay_run_id, o.flow_id, o.trigger_node_id, 'queued', o.trigger, o.raw_body, 'replay',
                 ${replayId}, o.id, ${replay.version}::int, ${replay.draft_revision}::int
          from next n join runs o on o.tenant_id = ${tenantId} and o.id = n.run_id
          returning replay_of
        ), marked as (
          -- An original run gone since (purged by retention): nothing to replay, the item failed.
          update replay_items i set
            status = case when exists (select 1 from ins where ins.replay_of = n.run_id) then 'running' else 'failed' end,
            differences = case when exists (select 1 from ins where ins.replay_of = n.run_id) then null
              else ${JSON.stringify([{ path: 'run', original: null, replay: 'the original run no longer exists' }])}::jsonb end
          from next n
          where i.tenant_id = ${tenantId} and i.replay_id = ${replayId} and i.position = n.position
          returning i.position, exists (select 1 from ins where ins.replay_of = n.run_id) as found
        )
        select position, found from marked`.execute(tx);
      changed = true;
      const gone = started.rows.filter((x) => !x.found).length;
      done += gone;
      await sql`
        update replays set started = started + ${room}::int, done = done + ${gone}::int, failed = failed + ${gone}::int
        where tenant_id = ${tenantId} and id = ${replayId}`.execute(tx);
      if (gone < started.rows.length) await sql`select pg_notify(${RUNS_CHANNEL}, '')`.execute(tx);
    }

    // 3. Done when every item is.
    if (done >= counts.total) {
      changed = true;
      await sql`
        update replays set status = 'done', finished_at = ${opts.now}
        where tenant_id = ${tenantId} and id = ${replayId}`.execute(tx);
    }
    return changed;
  });
}

const REPLAY_COLUMNS = [
  'id',
  'flow_id',
  'version',
  'draft_revision',
  'status',
  'total',
  'done',
  'same',
  'different',
  'failed',
  'created_at',
  'created_by',
  'finished_at',
] as const;

export async function getReplay(database: Database, tenantId: string, id: string) {
  return database.db
    .selectFrom('replays')
    .select(REPLAY_COLUMNS)
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
}

/** A flow's replays, newest first. */
export async function listReplays(
  database: Database,
  tenantId: string,
  flowId: string,
  opts: { limit: number; cursor?: string },
) {
  let q = database.db
    .selectFrom('replays')
    .select(REPLAY_COLUMNS)
    .where('tenant_id', '=', tenantId)
    .where('flow_id', '=', flowId);
  if (opts.cursor) q = q.where('id', '<', opts.cursor);
  return q.orderBy('id', 'desc').limit(opts.limit).execute();
}

/** A replay's items in report order, with what each original run and its replay ended with. */
export async function replayItems(database: Database, tenantId: string, replayId: string) {
  const r = await sql<{
    run_id: string;
    replay_run_id: string;
    status: string;
    differences: unknown[] | null;
    o_status: string | null;
    o_error: string | null;
    o_vars: unknown;
    o_response: unknown;
    r_status: string | null;
    r_error: string | null;
    r_vars: unknown;
    r_response: unknown;
  }>`
    select i.run_id, i.replay_run_id, i.status, i.differences,
      o.status as o_status, o.error as o_error, o.vars as o_vars, o.response as o_response,
      r.status as r_status, r.error as r_error, r.vars as r_vars, r.response as r_response
    from replay_items i
    left join runs o on o.tenant_id = i.tenant_id and o.id = i.run_id
    left join runs r on r.tenant_id = i.tenant_id and r.id = i.replay_run_id
    where i.tenant_id = ${tenantId} and i.replay_id = ${replayId}
    order by i.position`.execute(database.db);
  return r.rows;
}
