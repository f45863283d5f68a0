/** SQL for runs: the batched insert of accepted webhooks, reads for the API. */
import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/connect.ts';
import type { DB, RunMode, RunStatus } from '../db/schema.ts';
import { tenantRetentionCutoff } from '../tenants/retention.ts';

export type NewRun = {
  tenantId: string;
  id: string;
  flowId: string;
  triggerNodeId: string;
  /** JSON text of {method, path, headers, query, body, ...} */
  trigger: string;
  rawBody: Buffer | null;
  /** The sender waits for the run's respond node (response mode "flow"). */
  waitResponse?: boolean;
  /** This process's run worker may take the run at insert (no max_concurrency to count). */
  local?: boolean;
  /** A test run (the test URL, docs/api.md §3.13): side effects held back. */
  mode?: RunMode;
  /** Pinned at insert: the draft revision or the version the run executes. */
  draftRevision?: number;
  flowVersion?: number;
};

/** Runs of a batch stored already claimed by a worker of this process (see RunGroupCommitter). */
export type LocalClaim = { workerId: string; now: Date; until: Date; count: number };

export const RUNS_CHANNEL = 'hookflow_runs';

/**
 * Inserts many queued runs in one statement and wakes run workers. Either all rows are stored or
 * none. The batch travels as one JSON parameter built by hand: each trigger is already JSON text
 * and goes in as is, and raw bodies as base64 — no per-element escaping of array parameters.
 */
export async function insertQueuedRuns(db: Kysely<DB>, runs: NewRun[], claim?: LocalClaim): Promise<void> {
  if (runs.length === 0) return;
  const claimed = claim?.count ?? 0;
  let batch = '[';
  for (let i = 0; i < runs.length; i++) {
    const r = runs[i];
    if (i) batch += ',';
    batch += `{"t":${JSON.stringify(r.tenantId)},"i":${JSON.stringify(r.id)},"f":${JSON.stringify(r.flowId)},"n":${JSON.stringify(r.triggerNodeId)},"tr":${r.trigger},"rb":${r.rawBody ? `"${r.rawBody.toString('base64')}"` : 'null'},"w":${r.waitResponse === true},"c":${i < claimed}`;
    if (r.mode) batch += `,"m":"${r.mode}","dr":${r.draftRevision ?? null},"fv":${r.flowVersion ?? null}`;
    batch += '}';
  }
  batch += ']';
  // The first `claim.count` runs are stored as running under this process's lease (its worker
  // executes them straight from memory); the rest are queued and the workers are woken.
  await sql`/* prepared */
    with inserted as (
      insert into runs (tenant_id, id, flow_id, trigger_node_id, status, trigger, raw_body, wait_response,
                        locked_by, locked_until, started_at, attempts, mode, draft_revision, flow_version)
      select t, i, f, n, case when c then 'running' else 'queued' end, tr, decode(rb, 'base64'), w,
             case when c then ${claim?.workerId ?? null}::text end,
             case when c then ${claim?.until ?? null}::timestamptz end,
             case when c then ${claim?.now ?? null}::timestamptz end,
             case when c then 1 else 0 end, m, dr, fv
      from json_to_recordset(${batch}::json)
        as u(t text, i text, f text, n text, tr jsonb, rb text, w boolean, c boolean, m text, dr int, fv int)
      returning status
    )
    select pg_notify(${RUNS_CHANNEL}, '') from (select 1 from inserted where status = 'queued' limit 1) x
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
  'flow_key',
  'response',
  'error',
  'attempts',
  'rerun_of',
  'error_of_run_id',
  'error_flow',
  'parent_run_id',
  'flow_version',
  'mode',
  'draft_revision',
  'replay_id',
  'replay_of',
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
  opts: {
    flowId?: string;
    status?: RunStatus;
    limit: number;
    cursor?: string;
    /** Test runs only (docs/api.md §3.13); without it and `replayId`, production runs only. */
    test?: boolean;
    /** One replay's runs. */
    replayId?: string;
  },
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
      'mode',
      'flow_version',
      'draft_revision',
      'replay_id',
      'replay_of',
    ])
    .select(sql<string>`trigger->>'method'`.as('method'))
    .select(sql<boolean>`coalesce(trigger->'manual' = 'true'::jsonb, false)`.as('manual'))
    .where('tenant_id', '=', tenantId);
  if (opts.flowId) q = q.where('flow_id', '=', opts.flowId);
  if (opts.status) q = q.where('status', '=', opts.status);
  if (opts.replayId) q = q.where('mode', '=', 'replay').where('replay_id', '=', opts.replayId);
  else if (opts.test) q = q.where('mode', '=', 'test');
  else q = q.where('mode', 'is', null);
  if (opts.cursor) q = q.where('id', '<', opts.cursor);
  return q.orderBy('id', 'desc').limit(opts.limit).execute();
}

export const RESPONSES_CHANNEL = 'hookflow_responses';

export type ClaimedRun = {
  tenant_id: string;
  id: string;
  flow_id: string;
  trigger_node_id: string;
  trigger: Record<string, unknown>;
  nodes: unknown[];
  vars: Record<string, unknown>;
  flow_key: Record<string, unknown>;
  response: unknown;
  wait_response: boolean;
  started_at: Date;
  attempts: number;
  /** The version of its flow the run started on (null: it has not run yet). */
  flow_version?: number | null;
  /** A test or replay run (side effects held back), and the draft revision it runs, if any. */
  mode?: RunMode | null;
  draft_revision?: number | null;
  /** A replay run: its replay, and the original run it runs again. */
  replay_id?: string | null;
  replay_of?: string | null;
};

/** What a claim took, and whether due runs were left because of fairness or a concurrency limit. */
export type Claimed = ClaimedRun[] & {
  /**
   * Due runs stayed behind because their tenant's allowance was 0, or a `max_concurrency` or
   * `max_concurrent_runs` limit was reached: a slot freed here may let them start.
   */
  heldBack: boolean;
};

export type ClaimOptions = {
  workerId: string;
  now: Date;
  leaseMs: number;
  /** At most this many runs in all. */
  limit: number;
  /** Per tenant, at most this many of its runs (0: none) — the worker's fair shares. */
  tenants?: ReadonlyMap<string, number>;
  /** At most this many runs of any tenant not in `tenants` (default: `limit`). */
  otherTenants?: number;
};

/** A tenant's wish in a claim: how many due runs it could take, and since when its oldest is due. */
export type ClaimWant = { tenantId: string; wanted: number; oldest: number };

/**
 * Divides `limit` among tenants max-min fairly ("water filling"): the level is raised for all
 * tenants together, so the smallest wants are met in full and what they leave is shared equally;
 * the slots left over by rounding (and when there are more tenants than slots, the slots
 * themselves) go to the tenants whose oldest due run has waited longest. In that order, tenants
 * with nothing left out.
 */
export function fairTakes(wants: readonly ClaimWant[], limit: number): [string, number][] {
  const active = wants.filter((w) => w.wanted > 0);
  const sorted = [...active].sort((a, b) => a.wanted - b.wanted);
  let left = Math.max(0, limit);
  let level = 0;
  for (let i = 0; i < sorted.length; ) {
    const rest = sorted.length - i;
    const need = (sorted[i].wanted - level) * rest;
    if (need > left) {
      const raise = Math.floor(left / rest);
      level += raise;
      left -= raise * rest;
      break;
    }
    left -= need;
    level = sorted[i].wanted;
    while (i < sorted.length && sorted[i].wanted === level) i++;
  }
  const out: [string, number][] = [];
  for (const w of [...active].sort((a, b) => a.oldest - b.oldest)) {
    let take = Math.min(w.wanted, level);
    if (take < w.wanted && left > 0) {
      take++;
      left--;
    }
    if (take > 0) out.push([w.tenantId, take]);
  }
  return out;
}

/** Advisory lock keys: one per flow with max_concurrency, one per tenant with max_concurrent_runs. */
const flowKey = (tenantId: string, flowId: string) => `${tenantId}:${flowId}`;
const tenantKey = (tenantId: string) => `tenant-runs:${tenantId}`;

/**
 * Claims due runs (queued, or running whose lease ended or whose delay is over) under a lease:
 * `FOR UPDATE SKIP LOCKED`, so concurrent workers never claim the same run.
 *
 * Fair across tenants (docs/api.md §4.4): the tenants with queued or running runs are found by a
 * loose index scan over `runs_due_tenant` (one index probe per tenant) and their due runs counted
 * up to each one's allowance (`tenants` / `otherTenants`, the worker's fair shares); `limit` is
 * divided among them max-min fairly (fairTakes), each tenant's take of its oldest due runs is
 * locked, and the runs are taken round-robin — every tenant's oldest first, then every tenant's
 * second, … — so a backlog of one tenant never keeps another's fresh run out of the next claim.
 *
 * Flows with `settings.max_concurrency` and tenants with `settings.max_concurrent_runs` are
 * serialised by an advisory lock (taken in one sorted order, so claims cannot deadlock) while their
 * running runs are counted, so the limits hold across processes. Times come from the caller's
 * clock (testable delays).
 */
export async function claimRuns(db: Kysely<DB>, opts: ClaimOptions): Promise<Claimed> {
  const { now, limit } = opts;
  const others = Math.max(0, Math.min(opts.otherTenants ?? limit, limit));
  const allowances = JSON.stringify(
    [...(opts.tenants ?? new Map<string, number>())].map(([t, n]) => ({
      t,
      n: Math.max(0, Math.min(n, limit)),
    })),
  );
  return db.transaction().execute(async (tx) => {
    // 1. The tenants with queued or running runs (a loose index scan: one probe per tenant), and
    //    how many due runs each has, counted up to its allowance (1 for an allowance of 0).
    const due = await sql<{
      tenant_id: string;
      allowance: number;
      due: number;
      oldest: Date | null;
    }>`/* prepared */
      with recursive scan(tenant_id) as (
        (select tenant_id from runs where status in ('queued', 'running') order by tenant_id limit 1)
        union all
        select (select r.tenant_id from runs r
                where r.status in ('queued', 'running') and r.tenant_id > s.tenant_id
                order by r.tenant_id limit 1)
        from scan s where s.tenant_id is not null
      ), allowed as (
        select s.tenant_id, coalesce(a.n, ${others}::int) as allowance
        from scan s left join json_to_recordset(${allowances}::json) as a(t text, n int) on a.t = s.tenant_id
        where s.tenant_id is not null
      )
      select d.tenant_id, d.allowance, x.due, x.oldest
      from allowed d
      cross join lateral (
        select count(*)::int as due, min(y.run_at) as oldest from (
          select r.run_at from runs r
          where r.tenant_id = d.tenant_id and r.status in ('queued', 'running') and r.run_at <= ${now}
            and (r.locked_until is null or r.locked_until < ${now})
          -- Ordered like the index, so the scan stops at the limit (not a bitmap of them all).
          order by r.run_at
          limit greatest(d.allowance, 1)) y) x`.execute(tx);
    let heldBack = due.rows.some((d) => d.allowance === 0 && d.due > 0);
    const takes = fairTakes(
      due.rows
        .filter((d) => d.allowance > 0 && d.due > 0)
        .map((d) => ({ tenantId: d.tenant_id, wanted: d.due, oldest: new Date(d.oldest!).getTime() })),
      limit,
    );
    if (takes.length === 0) return Object.assign([] as ClaimedRun[], { heldBack });

    // 2. Each tenant's take of its oldest due runs, locked.
    type Candidate = {
      tenant_id: string;
      id: string;
      flow_id: string;
      run_at: Date;
      max_c: number | null;
      tenant_max: number | null;
    };
    const found = await sql<Candidate>`/* prepared */
      select c.tenant_id, c.id, c.flow_id, c.run_at,
        (f.settings->>'max_concurrency')::int as max_c,
        case when jsonb_typeof(t.settings->'max_concurrent_runs') = 'number'
             then (t.settings->>'max_concurrent_runs')::int end as tenant_max
      from json_to_recordset(${JSON.stringify(takes.map(([t, n]) => ({ t, n })))}::json) as d(t text, n int)
      cross join lateral (
        select r.tenant_id, r.id, r.flow_id, r.run_at from runs r
        where r.tenant_id = d.t and r.status in ('queued', 'running') and r.run_at <= ${now}
          and (r.locked_until is null or r.locked_until < ${now})
        order by r.run_at
        limit d.n
        for update of r skip locked
      ) c
      left join flows f on f.tenant_id = c.tenant_id and f.id = c.flow_id
      left join tenants t on t.id = c.tenant_id`.execute(tx);
    // Round-robin: each tenant's oldest due run first, then each tenant's second, and so on.
    const rank = new Map<string, number>();
    const candidates = found.rows
      .sort((a, b) => new Date(a.run_at).getTime() - new Date(b.run_at).getTime())
      .map((c) => {
        const r = (rank.get(c.tenant_id) ?? 0) + 1;
        rank.set(c.tenant_id, r);
        return { ...c, rank: r };
      })
      .sort((a, b) => a.rank - b.rank || new Date(a.run_at).getTime() - new Date(b.run_at).getTime());

    let chosen: Candidate[] = candidates;
    const limited = candidates.filter((c) => c.max_c !== null || c.tenant_max !== null);
    if (limited.length) {
      const flowKeys = [
        ...new Set(limited.filter((c) => c.max_c !== null).map((c) => flowKey(c.tenant_id, c.flow_id))),
      ];
      const cappedTenants = [
        ...new Set(limited.filter((c) => c.tenant_max !== null).map((c) => c.tenant_id)),
      ];
      const keys = [...flowKeys, ...cappedTenants.map(tenantKey)].sort();
      for (const key of keys) await sql`select pg_advisory_xact_lock(hashtext(${key}))`.execute(tx);
      const tenantIds = [...new Set(limited.map((c) => c.tenant_id))];
      // Over the partial index runs_running_tenant: the running runs of these tenants only.
      const counts = await sql<{ tenant_id: string; flow_id: string; n: string }>`/* prepared */
        select tenant_id, flow_id, count(*) as n from runs
        where status = 'running' and locked_until >= ${now} and tenant_id = any(${tenantIds}::text[])
        group by 1, 2`.execute(tx);
      const runningFlow = new Map<string, number>();
      const runningTenant = new Map<string, number>();
      for (const r of counts.rows) {
        runningFlow.set(flowKey(r.tenant_id, r.flow_id), Number(r.n));
        runningTenant.set(r.tenant_id, (runningTenant.get(r.tenant_id) ?? 0) + Number(r.n));
      }
      chosen = candidates.filter((c) => {
        const fk = flowKey(c.tenant_id, c.flow_id);
        const flowN = runningFlow.get(fk) ?? 0;
        const tenantN = runningTenant.get(c.tenant_id) ?? 0;
        if ((c.max_c !== null && flowN >= c.max_c) || (c.tenant_max !== null && tenantN >= c.tenant_max)) {
          heldBack = true;
          return false;
        }
        runningFlow.set(fk, flowN + 1);
        runningTenant.set(c.tenant_id, tenantN + 1);
        return true;
      });
    }
    const claimed = Object.assign([] as ClaimedRun[], { heldBack });
    if (chosen.length === 0) return claimed;
    const lockedUntil = new Date(now.getTime() + opts.leaseMs);
    const updated = await sql<ClaimedRun>`/* prepared */
      update runs r set status = 'running', locked_until = ${lockedUntil}, locked_by = ${opts.workerId},
        -- A worker's attempt is counted when the run starts and when it is taken over from a worker
        -- that held it (and died); waking from a sleep (delay, retry back-off) is not a new attempt.
        attempts = r.attempts + case when r.locked_by is null and r.attempts > 0 then 0 else 1 end,
        started_at = coalesce(r.started_at, ${now})
      from unnest(${chosen.map((c) => c.tenant_id)}::text[], ${chosen.map((c) => c.id)}::text[]) as c(tenant_id, id)
      where r.tenant_id = c.tenant_id and r.id = c.id
      returning r.tenant_id, r.id, r.flow_id, r.trigger_node_id, r.trigger, r.nodes, r.vars, r.flow_key,
        r.response, r.wait_response, r.started_at, r.attempts, r.flow_version, r.mode, r.draft_revision,
        r.replay_id, r.replay_of`.execute(tx);
    claimed.push(...updated.rows);
    return claimed;
  });
}

export type ProgressEvent = {
  tenantId: string;
  runId: string;
  id: string;
  eventType: string;
  data: unknown;
  context: Record<string, unknown>;
  source: 'flow' | 'system';
  /** An event of a test or replay run: recorded, never delivered. */
  held?: boolean;
};

export type RunProgress = {
  tenantId: string;
  id: string;
  status: RunStatus;
  nodes: unknown[];
  vars: Record<string, unknown>;
  flowKey: Record<string, unknown>;
  error: string | null;
  response: unknown | null;
  /** Sleep until (delay): the run becomes due again then. */
  runAt: Date | null;
  finished: boolean;
  /** Give the lease back (finished or sleeping). */
  release: boolean;
  /**
   * A failed run of a flow with `settings.error_flow_id` (docs/api.md §4.4): the error run to start
   * with this write — or, with `skipped`, why none starts. Recorded on the run as `error_flow`.
   */
  errorRun?: ErrorRun;
  /** The flow version the run executes: recorded by its first write, kept after. */
  flowVersion?: number;
  /** Runs this write starts (subflow nodes), as children of this run. */
  children?: { id: string; flowId: string; triggerNodeId: string; trigger: Record<string, unknown> }[];
  /** A test or replay run: its children are too (of the same replay, replaying the same original). */
  mode?: RunMode | null;
  replayId?: string | null;
  replayOf?: string | null;
};

export type ErrorRun = {
  flowId: string;
  /** The new run's id and its trigger (JSON-able); absent when `skipped`. */
  runId?: string;
  trigger?: Record<string, unknown>;
  skipped?: string;
};

/** What a write stored of a run: for a failed run with an error flow, what became of its error run. */
export type WrittenRun = {
  errorFlow: { flow_id: string; run_id: string | null; skipped?: string } | null;
};

/**
 * Writes checkpoints and completions of many runs in one statement, with the events they produce
 * (transactional outbox) — only for runs this worker still holds. Wakes senders waiting for a
 * response. A failed run's error run (RunProgress.errorRun) is inserted by the same statement, so
 * it exists if and only if the run is stored as failed; whether it starts (the error flow exists,
 * is enabled and has a webhook trigger) is decided there too, and recorded on the failed run.
 * Returns the runs actually written, by id (a run cancelled meanwhile is not).
 */
export async function writeRunProgress(
  db: Kysely<DB>,
  workerId: string,
  now: Date,
  rows: RunProgress[],
  events: ProgressEvent[],
): Promise<Map<string, WrittenRun>> {
  if (rows.length === 0) return new Map();
  // Two JSON parameters (runs, events), each one native JSON.stringify: the nested documents go in
  // as JSON values, not as strings escaped again into array literals.
  const runsJson = JSON.stringify(
    rows.map((x) => ({
      tenant_id: x.tenantId,
      id: x.id,
      status: x.status,
      nodes: x.nodes,
      vars: x.vars,
      flow_key: x.flowKey,
      error: x.error,
      response: x.response,
      run_at: x.runAt,
      finished: x.finished,
      release: x.release,
      flow_version: x.flowVersion ?? null,
      ef_flow: x.errorRun?.flowId ?? null,
      ef_run: x.errorRun?.runId ?? null,
      ef_trigger: x.errorRun?.trigger ?? null,
      ef_skip: x.errorRun?.skipped ?? null,
    })),
  );
  const childrenJson = JSON.stringify(
    rows.flatMap((x) =>
      (x.children ?? []).map((c) => ({
        tenant_id: x.tenantId,
        parent_id: x.id,
        id: c.id,
        flow_id: c.flowId,
        trigger_node_id: c.triggerNodeId,
        trigger: c.trigger,
        mode: x.mode ?? null,
        replay_id: x.replayId ?? null,
        replay_of: x.replayOf ?? null,
      })),
    ),
  );
  const eventsJson = JSON.stringify(
    events.map((e) => ({
      tenant_id: e.tenantId,
      run_id: e.runId,
      id: e.id,
      event_type: e.eventType,
      data: e.data ?? null,
      context: e.context,
      source: e.source,
      held: e.held === true,
    })),
  );
  const r = await sql<{ id: string; error_flow: WrittenRun['errorFlow'] }>`/* prepared */
    with u as (
      select * from json_to_recordset(${runsJson}::json)
        as u(tenant_id text, id text, status text, nodes jsonb, vars jsonb, flow_key jsonb, error text,
             response jsonb, run_at timestamptz, finished boolean, release boolean, flow_version integer,
             ef_flow text, ef_run text, ef_trigger jsonb, ef_skip text)
    ), ef as (
      -- Error flows: the error flow as it is now, in this tenant, from its first webhook node.
      select u.tenant_id, u.id, u.ef_flow, u.ef_run, u.ef_trigger, h.node_id,
        case when u.ef_skip is not null then u.ef_skip
             when f.id is null then 'the error flow does not exist'
             when not f.enabled then 'the error flow is disabled'
             when h.node_id is null then 'the error flow has no webhook trigger' end as skipped
      from u
      left join flows f on f.tenant_id = u.tenant_id and f.id = u.ef_flow
      left join lateral (
        select x.n->>'id' as node_id from jsonb_array_elements(f.nodes) with ordinality as x(n, i)
        where x.n->>'type' = 'webhook' order by x.i limit 1) h on true
      where u.ef_flow is not null
    ), done as (
      update runs r set status = u.status, nodes = u.nodes, vars = u.vars, flow_key = u.flow_key, error = u.error,
        response = coalesce(u.response, r.response),
        -- A wait's callback, or a child's end, while this worker held the run: due at once, not at
        -- its timeout — also for a child that ends in this very write (it cannot wake its parent
        -- below: one statement updates a row once).
        run_at = case when u.release and not u.finished and (r.wake_pending or u.child_ended)
          then ${now}::timestamptz else coalesce(u.run_at, r.run_at) end,
        wake_pending = case when u.release then false else r.wake_pending or u.child_ended end,
        flow_version = coalesce(r.flow_version, u.flow_version),
        finished_at = case when u.finished then ${now}::timestamptz else r.finished_at end,
        locked_until = case when u.release then null else r.locked_until end,
        locked_by = case when u.release then null else r.locked_by end,
        error_flow = case when ef.id is null then r.error_flow
          else jsonb_build_object('flow_id', ef.ef_flow, 'run_id', case when ef.skipped is null then ef.ef_run end)
            || case when ef.skipped is null then '{}'::jsonb else jsonb_build_object('skipped', ef.skipped) end end
      from (
        select u.*, exists (
          select 1 from u c join runs cr on cr.tenant_id = c.tenant_id and cr.id = c.id
          where c.finished and cr.tenant_id = u.tenant_id and cr.parent_run_id = u.id) as child_ended
        from u) u
      left join ef on ef.tenant_id = u.tenant_id and ef.id = u.id
      where r.tenant_id = u.tenant_id and r.id = u.id and r.status = 'running' and r.locked_by = ${workerId}
      returning r.tenant_id, r.id, r.wait_response, u.finished, (u.response is not null) as has_response,
        r.error_flow, (u.release and not u.finished and r.run_at < u.run_at) as woke, r.parent_run_id
    ), resumed as (
      select pg_notify(${RUNS_CHANNEL}, '') from (select 1 from done where woke limit 1) x
    ), ch as (
      -- Sub-flows: the child runs this write starts, stored with the parent's record that names them.
      insert into runs (tenant_id, id, flow_id, trigger_node_id, status, trigger, parent_run_id, mode, replay_id,
                        replay_of)
      select c.tenant_id, c.id, c.flow_id, c.trigger_node_id, 'queued', c.trigger, c.parent_id, c.mode, c.replay_id,
             c.replay_of
      from json_to_recordset(${childrenJson}::json)
           as c(tenant_id text, parent_id text, id text, flow_id text, trigger_node_id text, trigger jsonb,
                mode text, replay_id text, replay_of text)
      join done d on d.tenant_id = c.tenant_id and d.id = c.parent_id
      returning 1
    ), parents as (
      -- A child that ended wakes its parent: due at once, or at its holder's next release.
      update runs p set wake_pending = true,
        run_at = case when p.locked_by is null then ${now}::timestamptz else p.run_at end
      from done d
      where d.finished and d.parent_run_id is not null and p.tenant_id = d.tenant_id
        and p.id = d.parent_run_id and p.status = 'running'
        and not exists (select 1 from u where u.tenant_id = p.tenant_id and u.id = p.id)
      returning 1
    ), ch_woken as (
      select pg_notify(${RUNS_CHANNEL}, '') from (select 1 from ch union all select 1 from parents limit 1) x
    ), er as (
      insert into runs (tenant_id, id, flow_id, trigger_node_id, status, trigger, error_of_run_id)
      select ef.tenant_id, ef.ef_run, ef.ef_flow, ef.node_id, 'queued', ef.ef_trigger, ef.id
      from ef join done d on d.tenant_id = ef.tenant_id and d.id = ef.id
      where ef.skipped is null
      returning 1
    ), er_woken as (
      select pg_notify(${RUNS_CHANNEL}, '') from (select 1 from er limit 1) x
    ), ev as (
      insert into events (tenant_id, id, event_type, data, context, source, held)
      select e.tenant_id, e.id, e.event_type, coalesce(e.data, 'null'::jsonb), e.context, e.source, e.held
      from json_to_recordset(${eventsJson}::json)
           as e(tenant_id text, run_id text, id text, event_type text, data jsonb, context jsonb, source text,
                held boolean)
      join done d on d.tenant_id = e.tenant_id and d.id = e.run_id
      returning tenant_id, event_type, held
    ), et as (
      -- Test and replay runs do not add to the event-type catalog.
      insert into event_types (tenant_id, name) select distinct tenant_id, event_type from ev where not held
      on conflict do nothing
      returning 1
    ), woken as (
      select pg_notify(${RESPONSES_CHANNEL}, d.id) from done d where d.wait_response and (d.finished or d.has_response)
    )
    select d.id, d.error_flow, (select count(*) from woken) as woken, (select count(*) from er_woken) as er_woken,
      (select count(*) from resumed) as resumed, (select count(*) from ch_woken) as ch_woken
    from done d`.execute(db);
  return new Map(r.rows.map((x) => [x.id, { errorFlow: x.error_flow ?? null }]));
}

/** Keeps the lease of runs still in progress. */
export async function extendLeases(
  db: Kysely<DB>,
  workerId: string,
  ids: string[],
  until: Date,
): Promise<void> {
  if (ids.length === 0) return;
  await sql`update runs set locked_until = ${until}
    where id = any(${ids}::text[]) and locked_by = ${workerId} and status = 'running'`.execute(db);
}

/** Gives back leases this worker holds (graceful shutdown): the runs are claimable at once. */
export async function releaseLeases(db: Kysely<DB>, workerId: string, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await sql`update runs set locked_until = null, locked_by = null
    where id = any(${ids}::text[]) and locked_by = ${workerId} and status = 'running'`.execute(db);
}

/** Cancels a queued or running run; a sender waiting for it is woken. */
export async function cancelRun(db: Kysely<DB>, tenantId: string, id: string, now: Date) {
  const r = await sql<{ id: string; status: RunStatus }>`
    with c as (
      update runs set status = 'cancelled', finished_at = ${now}, locked_until = null, locked_by = null,
        error = coalesce(error, 'Cancelled')
      where tenant_id = ${tenantId} and id = ${id} and status in ('queued', 'running')
      returning id, status, wait_response, parent_run_id
    ), woken as (select pg_notify(${RESPONSES_CHANNEL}, c.id) from c where c.wait_response),
    parent as (
      -- A cancelled sub-flow run wakes its parent, whose subflow node then fails.
      update runs p set wake_pending = true,
        run_at = case when p.locked_by is null then ${now}::timestamptz else p.run_at end
      from c where p.tenant_id = ${tenantId} and p.id = c.parent_run_id and p.status = 'running'
      returning 1
    ), parent_woken as (select pg_notify(${RUNS_CHANNEL}, '') from (select 1 from parent limit 1) x)
    select id, status, (select count(*) from woken) as woken, (select count(*) from parent_woken) as parent_woken
    from c`.execute(db);
  return r.rows[0];
}

/** A new queued run with the same trigger input as an earlier one. */
export async function rerunRun(db: Kysely<DB>, tenantId: string, id: string, newRunId: string) {
  const r = await sql<{ id: string }>`
    with n as (
      insert into runs (tenant_id, id, flow_id, trigger_node_id, status, trigger, raw_body, rerun_of, error_of_run_id,
                        mode, draft_revision, flow_version)
      -- A test run's rerun is a test run of the same draft revision or version (docs/api.md §3.13).
      select tenant_id, ${newRunId}, flow_id, trigger_node_id, 'queued', trigger, raw_body, id, error_of_run_id,
             mode, case when mode = 'test' then draft_revision end, case when mode = 'test' then flow_version end
      from runs where tenant_id = ${tenantId} and id = ${id} and mode is distinct from 'replay'
      returning id
    )
    select n.id, (select pg_notify(${RUNS_CHANNEL}, '')) as woken from n`.execute(db);
  return r.rows[0]?.id;
}

/** What a waiting sender needs: the respond node's answer, or how the run ended. */
export async function getRunOutcome(db: Kysely<DB>, tenantId: string, id: string) {
  return db
    .selectFrom('runs')
    .select(['status', 'response', 'error'])
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
}

/**
 * Run retention (docs/api.md §6.2 `run_retention_days`, default 30; `null` keeps runs): deletes
 * one batch of runs that finished longer ago than their tenant's retention — a run's node
 * records, output and trigger live in its row and go with it. Queued and running runs are never
 * touched, however old. Returns how many were deleted; the maintenance loop calls it until it
 * returns 0, so a large backlog goes in small transactions. Several processes may run it at once.
 */
export async function purgeFinishedRuns(database: Database, batch = 500): Promise<number> {
  const r = await sql`
    delete from runs where ctid in (
      select r.ctid from runs r left join tenants t on t.id = r.tenant_id
      where r.status in ('succeeded', 'failed', 'cancelled')
        and jsonb_typeof(coalesce(t.settings, '{}'::jsonb) -> 'run_retention_days') is distinct from 'null'
        -- No retention is shorter than a day: the partial index skips the most recent runs.
        and r.finished_at < now() - interval '1 day'
        and r.finished_at < ${tenantRetentionCutoff('run_retention_days')}
      limit ${batch}
      for update of r skip locked)`.execute(database.db);
  return Number(r.numAffectedRows ?? 0);
}

/** A callback to a wait node's resume URL, as stored (docs/api.md §4.7). */
export type ResumeRequest = {
  method: string;
  headers: Record<string, unknown>;
  query: Record<string, unknown>;
  body: unknown;
  body_kind: string;
  received_at: string;
};

/** What the resume URL needs of its run: its state, and the wait node as the run's version (or draft) has it. */
export async function getRunForResume(db: Kysely<DB>, tenantId: string, runId: string, nodeId: string) {
  const r = await sql<{
    status: string;
    node_status: string | null;
    node: { type?: string; config?: unknown } | null;
  }>`
    select r.status,
      (select n->>'status' from jsonb_array_elements(r.nodes) n where n->>'id' = ${nodeId} limit 1) as node_status,
      (select n from jsonb_array_elements(coalesce(d.nodes, v.nodes, f.nodes)) n where n->>'id' = ${nodeId} limit 1) as node
    from runs r left join flows f on f.tenant_id = r.tenant_id and f.id = r.flow_id
    -- The document the run executes: the draft revision (a test run) or version it is pinned to.
    left join flow_drafts d on d.tenant_id = r.tenant_id and d.flow_id = r.flow_id and d.revision = r.draft_revision
    left join flow_versions v on v.tenant_id = r.tenant_id and v.flow_id = r.flow_id and v.version = r.flow_version
    where r.tenant_id = ${tenantId} and r.id = ${runId}`.execute(db);
  return r.rows[0];
}

/**
 * Stores a callback for a run's wait node and wakes the run (at once when no worker holds it; at
 * the holder's next release otherwise), in one statement. False when one was stored before.
 */
export async function storeResume(
  db: Kysely<DB>,
  r: { tenantId: string; runId: string; nodeId: string; request: ResumeRequest; now: Date },
): Promise<boolean> {
  const res = await sql<{ stored: number }>`
    with ins as (
      insert into run_resumes (tenant_id, run_id, node_id, request)
      values (${r.tenantId}, ${r.runId}, ${r.nodeId}, ${JSON.stringify(r.request)}::jsonb)
      on conflict do nothing
      returning 1
    ), wake as (
      update runs set wake_pending = true,
        run_at = case when locked_by is null and run_at > ${r.now}::timestamptz then ${r.now}::timestamptz else run_at end
      where tenant_id = ${r.tenantId} and id = ${r.runId} and status in ('queued', 'running')
        and exists (select 1 from ins)
      returning 1
    ), woken as (
      select pg_notify(${RUNS_CHANNEL}, '') from (select 1 from wake limit 1) x
    )
    select (select count(*) from ins)::int as stored, (select count(*) from woken)::int as woken`.execute(db);
  return (res.rows[0]?.stored ?? 0) > 0;
}

/** The callback stored for a run's wait node, if one came. */
export async function findResume(
  db: Kysely<DB>,
  tenantId: string,
  runId: string,
  nodeId: string,
): Promise<ResumeRequest | undefined> {
  const row = await db
    .selectFrom('run_resumes')
    .select('request')
    .where('tenant_id', '=', tenantId)
    .where('run_id', '=', runId)
    .where('node_id', '=', nodeId)
    .executeTakeFirst();
  return row?.request as ResumeRequest | undefined;
}

/** A child run as its parent's subflow node sees it (docs/api.md §4.3). */
export async function getChildRun(db: Kysely<DB>, tenantId: string, id: string) {
  return db
    .selectFrom('runs')
    .select(['status', 'vars', 'response', 'error'])
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
}

/** The runs a run's subflow nodes started, oldest first (the run detail's links). */
export async function listChildRuns(db: Kysely<DB>, tenantId: string, parentRunId: string) {
  return db
    .selectFrom('runs')
    .select(['id', 'flow_id', 'status', 'mode', 'created_at', 'finished_at'])
    .where('tenant_id', '=', tenantId)
    .where('parent_run_id', '=', parentRunId)
    .orderBy('id')
    .limit(1000)
    .execute();
}
