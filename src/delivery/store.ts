/** SQL for deliveries, attempts, endpoint rate slots and the events the delivery side writes. */
import { type Kysely, sql } from 'kysely';
import { newId } from '../core/ids.ts';
import type { DB } from '../db/schema.ts';

export const DELIVERIES_CHANNEL = 'hookflow_deliveries';

export type ClaimedDelivery = {
  tenant_id: string;
  id: string;
  message_id: string;
  endpoint_id: string;
  attempts: number;
  manual: boolean;
  event_type: string;
  /** The message's data as JSON text (spliced into the payload as is: no parse and re-stringify). */
  data_json: string;
  context: Record<string, unknown>;
  event_created_at: Date;
};

/** Claims due deliveries under a lease (`SKIP LOCKED`), with their message. */
export async function claimDueDeliveries(
  db: Kysely<DB>,
  opts: { workerId: string; now: Date; leaseMs: number; limit: number },
): Promise<ClaimedDelivery[]> {
  const until = new Date(opts.now.getTime() + opts.leaseMs);
  const r = await sql<ClaimedDelivery>`
    with c as (
      select tenant_id, id from deliveries
      where status = 'pending' and next_attempt_at <= ${opts.now}
        and (locked_until is null or locked_until < ${opts.now})
      order by next_attempt_at
      limit ${opts.limit}
      for update skip locked
    ), d as (
      update deliveries d set locked_until = ${until}, locked_by = ${opts.workerId}
      from c where d.tenant_id = c.tenant_id and d.id = c.id
      returning d.tenant_id, d.id, d.message_id, d.endpoint_id, d.attempts, d.manual
    )
    select d.*, e.event_type, e.data::text as data_json, e.context, e.created_at as event_created_at
    from d join events e on e.tenant_id = d.tenant_id and e.id = d.message_id`.execute(db);
  return r.rows;
}

export type AttemptResult = {
  tenantId: string;
  /** The message's event type (not stored with the attempt). */
  eventType: string;
  deliveryId: string;
  messageId: string;
  endpointId: string;
  ok: boolean;
  responseStatus: number | null;
  responseBody: string | null;
  durationMs: number;
  error: string | null;
  manual: boolean;
  /** What the delivery becomes. */
  status: 'delivered' | 'pending' | 'failed';
  nextAttemptAt: Date | null;
};

/**
 * Records attempts and moves their deliveries on, in one statement for a batch; also keeps each
 * endpoint's `failing_since` (null after a success, the first failure's time otherwise), and writes
 * `message.attempt.exhausted` for the deliveries given up on that `exhausted` picks — in the same
 * transaction, so the news cannot be lost between the two. Returns, per endpoint that failed,
 * since when it has been failing.
 */
export async function recordAttempts(
  db: Kysely<DB>,
  workerId: string,
  now: Date,
  results: AttemptResult[],
  exhausted: (r: AttemptResult) => boolean = () => false,
): Promise<Map<string, Date>> {
  if (results.length === 0) return new Map();
  // One JSON parameter for the batch: JSON.stringify is native, where 13 array parameters cost pg
  // an escape pass over every element.
  const rows = results.map((x) => ({
    tenant_id: x.tenantId,
    attempt_id: newId('att'),
    delivery_id: x.deliveryId,
    message_id: x.messageId,
    endpoint_id: x.endpointId,
    ok: x.ok,
    response_status: x.responseStatus,
    response_body: x.responseBody,
    duration_ms: x.durationMs,
    error: x.error === null ? null : x.error.replace(/\0/g, ''),
    manual: x.manual,
    status: x.status,
    next_attempt_at: x.nextAttemptAt,
    exhausted_id: exhausted(x) ? newId('evt') : null,
  }));
  const r = await sql<{ tenant_id: string; id: string; failing_since: Date | null }>`
    with u as (
      select * from json_to_recordset(${JSON.stringify(rows)}::json)
        as u(tenant_id text, attempt_id text, delivery_id text, message_id text, endpoint_id text, ok boolean,
             response_status int, response_body text, duration_ms int, error text, manual boolean, status text,
             next_attempt_at timestamptz, exhausted_id text)
    ), a as (
      insert into attempts (tenant_id, id, delivery_id, message_id, endpoint_id, status, response_status,
                            response_body, duration_ms, error, manual, created_at)
      select tenant_id, attempt_id, delivery_id, message_id, endpoint_id,
             case when ok then 'succeeded' else 'failed' end, response_status, response_body, duration_ms, error,
             manual, ${now}::timestamptz
      from u
      returning 1
    ), d as (
      update deliveries d set status = u.status, attempts = d.attempts + 1, next_attempt_at = u.next_attempt_at,
        locked_until = null, locked_by = null, last_response_status = u.response_status, last_error = u.error,
        manual = case when u.status = 'pending' then false else d.manual end,
        updated_at = ${now}::timestamptz,
        delivered_at = case when u.status = 'delivered' then ${now}::timestamptz else d.delivered_at end
      from u where d.tenant_id = u.tenant_id and d.id = u.delivery_id and d.locked_by = ${workerId}
      returning d.tenant_id, d.id
    ), ex as (
      insert into events (tenant_id, id, event_type, data, context, source)
      select u.tenant_id, u.exhausted_id, 'message.attempt.exhausted',
             jsonb_build_object('message_id', u.message_id, 'endpoint_id', u.endpoint_id,
                                'last_status', u.response_status, 'last_error', u.error),
             jsonb_build_object('tenant_id', u.tenant_id, 'endpoint_id', u.endpoint_id, 'message_id', u.message_id),
             'system'
      from u join d on d.tenant_id = u.tenant_id and d.id = u.delivery_id
      where u.exhausted_id is not null
      returning tenant_id
    ), ex_type as (
      insert into event_types (tenant_id, name) select distinct tenant_id, 'message.attempt.exhausted' from ex
      on conflict do nothing
      returning 1
    ), per_endpoint as (
      select tenant_id, endpoint_id, bool_or(ok) as any_ok from u group by tenant_id, endpoint_id
    ), changed as (
      -- Written only when it changes: a healthy endpoint's row is not rewritten (and locked) by
      -- every batch of every worker.
      update endpoints ep set failing_since = case when pe.any_ok then null else ${now}::timestamptz end
      from per_endpoint pe
      where ep.tenant_id = pe.tenant_id and ep.id = pe.endpoint_id
        and (case when pe.any_ok then ep.failing_since is not null else ep.failing_since is null end)
      returning 1
    )
    -- (every part of one statement sees the rows as they were before it: null means "from now")
    select pe.tenant_id, pe.endpoint_id as id, coalesce(ep.failing_since, ${now}::timestamptz) as failing_since
    from per_endpoint pe join endpoints ep on ep.tenant_id = pe.tenant_id and ep.id = pe.endpoint_id
    where not pe.any_ok`.execute(db);
  const out = new Map<string, Date>();
  for (const row of r.rows)
    if (row.failing_since) out.set(`${row.tenant_id}:${row.id}`, new Date(row.failing_since));
  return out;
}

/** Gives deliveries back without an attempt (rate limit, shutdown): tried again at `at`. */
export async function postponeDeliveries(
  db: Kysely<DB>,
  workerId: string,
  items: { tenantId: string; id: string }[],
  at: Date,
): Promise<void> {
  if (!items.length) return;
  await sql`update deliveries d set locked_until = null, locked_by = null, next_attempt_at = ${at}
    from unnest(${items.map((i) => i.tenantId)}::text[], ${items.map((i) => i.id)}::text[]) as u(tenant_id, id)
    where d.tenant_id = u.tenant_id and d.id = u.id and d.locked_by = ${workerId}`.execute(db);
}

/** Ends deliveries without an attempt (endpoint deleted or disabled). */
export async function closeDeliveries(
  db: Kysely<DB>,
  workerId: string,
  items: { tenantId: string; id: string }[],
  status: 'failed' | 'cancelled',
  reason: string,
  now: Date,
): Promise<void> {
  if (!items.length) return;
  await sql`update deliveries d set status = ${status}, locked_until = null, locked_by = null, next_attempt_at = null,
      last_error = ${reason}, updated_at = ${now}
    from unnest(${items.map((i) => i.tenantId)}::text[], ${items.map((i) => i.id)}::text[]) as u(tenant_id, id)
    where d.tenant_id = u.tenant_id and d.id = u.id and d.locked_by = ${workerId}`.execute(db);
}

/**
 * Takes up to `want` sends of an endpoint's per-second budget, shared by every worker process
 * through one row per endpoint. Returns how many were granted.
 */
export async function takeRateSlots(
  db: Kysely<DB>,
  tenantId: string,
  endpointId: string,
  second: number,
  limit: number,
  want: number,
): Promise<number> {
  const r = await sql<{ granted: number }>`
    insert into endpoint_rate (tenant_id, endpoint_id, second, sent, granted)
    values (${tenantId}, ${endpointId}, ${second}, least(${want}::int, ${limit}::int), least(${want}::int, ${limit}::int))
    on conflict (tenant_id, endpoint_id) do update set
      granted = case when endpoint_rate.second = excluded.second
                     then greatest(0, least(endpoint_rate.sent + ${want}::int, ${limit}::int) - endpoint_rate.sent)
                     else excluded.sent end,
      sent = case when endpoint_rate.second = excluded.second
                  then least(endpoint_rate.sent + ${want}::int, ${limit}::int) else excluded.sent end,
      second = excluded.second
    returning granted`.execute(db);
  return Math.max(0, Number(r.rows[0]?.granted ?? 0));
}

/** Writes an event from the delivery side (endpoint.disabled, message.attempt.exhausted); fan-out follows. */
export async function insertSystemEvent(
  db: Kysely<DB>,
  e: { tenantId: string; type: string; data: unknown; context: Record<string, unknown> },
): Promise<string> {
  const id = newId('evt');
  await sql`
    with ev as (
      insert into events (tenant_id, id, event_type, data, context, source)
      values (${e.tenantId}, ${id}, ${e.type}, ${JSON.stringify(e.data)}::jsonb, ${JSON.stringify(e.context)}::jsonb, 'system')
      returning tenant_id, event_type
    )
    insert into event_types (tenant_id, name) select tenant_id, event_type from ev on conflict do nothing`.execute(
    db,
  );
  return id;
}

/**
 * Disables an endpoint (410, or failing for too long), writes its `endpoint.disabled` event and
 * fails its pending deliveries, in one transaction; true when this call disabled it (so the event
 * is written once).
 */
export async function disableEndpointForFailures(
  db: Kysely<DB>,
  tenantId: string,
  endpointId: string,
  reason: string,
  now: Date,
): Promise<boolean> {
  return db.transaction().execute(async (tx) => {
    const r = await sql`update endpoints set enabled = false, disabled_reason = ${reason}, updated_at = ${now}
      where tenant_id = ${tenantId} and id = ${endpointId} and enabled`.execute(tx);
    if (Number(r.numAffectedRows ?? 0) === 0) return false;
    await insertSystemEvent(tx, {
      tenantId,
      type: 'endpoint.disabled',
      data: { endpoint_id: endpointId, reason },
      context: { tenant_id: tenantId, endpoint_id: endpointId },
    });
    await sql`update deliveries set status = 'failed', next_attempt_at = null, last_error = ${`endpoint disabled: ${reason}`},
        updated_at = ${now}
      where tenant_id = ${tenantId} and endpoint_id = ${endpointId} and status = 'pending'
        and (locked_until is null or locked_until < ${now})`.execute(tx);
    await sql`select pg_notify('hookflow_cache', ${`endpoint:${tenantId}:${endpointId}`})`.execute(tx);
    return true;
  });
}
