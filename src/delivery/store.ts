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
  /** The one delivery sent to an endpoint whose circuit is half open. */
  probe: boolean;
  event_type: string;
  /** The message's data as JSON text (spliced into the payload as is: no parse and re-stringify). */
  data_json: string;
  context: Record<string, unknown>;
  event_created_at: Date;
};

export type EndpointKey = { tenantId: string; endpointId: string };

export type ClaimOptions = {
  workerId: string;
  now: Date;
  leaseMs: number;
  /** At most this many deliveries, and at most this many of one endpoint. */
  limit: number;
  /** Attempts this process has in flight per endpoint: an endpoint gets max_in_flight minus these. */
  busy?: (EndpointKey & { inFlight: number })[];
  /** The walk over endpoints starts after this one (round-robin across claims); null: from the start. */
  after?: EndpointKey | null;
  /** …and ends at this one (inclusive), for the second half of a wrapped walk. */
  upTo?: EndpointKey | null;
  /** Endpoints looked at by one claim. */
  maxEndpoints?: number;
};

export type Claim = {
  deliveries: ClaimedDelivery[];
  /** The last endpoint the walk looked at, when it stopped at maxEndpoints (where the next claim goes on). */
  walkEnd: EndpointKey | null;
};

const FIRST_KEY: EndpointKey = { tenantId: '', endpointId: '' };

/**
 * Claims due deliveries under a lease (`SKIP LOCKED`), with their message, fairly (docs/api.md §5.7):
 * - it walks the endpoints that have due deliveries (a loose index scan of `deliveries_due_endpoint`,
 *   one index probe per endpoint, from `after`), so a backlog of 100,000 to one endpoint costs the
 *   walk one step and another endpoint's fresh delivery is in the same claim;
 * - each endpoint gets at most its `max_in_flight` minus what this process already has in flight
 *   there, oldest due first;
 * - an endpoint whose circuit is open gets nothing but manual retries; one whose cool-down is over
 *   gets one probe, and its circuit turns half open under a lease in the same statement (so two
 *   processes never probe at once);
 * - the rows are then taken round-robin: the first of every endpoint before the second of any,
 *   interleaved across tenants, up to `limit`.
 */
export async function claimDueDeliveries(db: Kysely<DB>, opts: ClaimOptions): Promise<Claim> {
  // Three small statements rather than one large one: PostgreSQL plans every statement afresh,
  // and planning one statement with all of this took ~20 ms on PGlite (execution: ~2 ms).
  const until = new Date(opts.now.getTime() + opts.leaseMs);
  const after = opts.after ?? FIRST_KEY;
  const upTo = opts.upTo ?? null;
  const maxEndpoints = opts.maxEndpoints ?? 500;
  const inFlight = new Map((opts.busy ?? []).map((b) => [`${b.tenantId}:${b.endpointId}`, b.inFlight]));

  // 1. The endpoints with due deliveries: a loose index scan, one probe of deliveries_due_endpoint each.
  const walked = await sql<{
    tenant_id: string;
    endpoint_id: string;
    n: number;
    sending: boolean;
    max_in_flight: number | null;
    circuit_state: string | null;
    circuit_due: boolean | null;
  }>`/* prepared */
    with recursive w(tenant_id, endpoint_id, n) as (
      (select tenant_id, endpoint_id, 1 from deliveries
       where status = 'pending' and next_attempt_at <= ${opts.now}
         and (tenant_id, endpoint_id) > (${after.tenantId}::text, ${after.endpointId}::text)
         and (${upTo?.tenantId ?? null}::text is null
              or (tenant_id, endpoint_id) <= (${upTo?.tenantId ?? null}::text, ${upTo?.endpointId ?? null}::text))
       order by tenant_id, endpoint_id limit 1)
      union all
      select nx.tenant_id, nx.endpoint_id, w.n + 1 from w cross join lateral (
        select d.tenant_id, d.endpoint_id from deliveries d
        where d.status = 'pending' and d.next_attempt_at <= ${opts.now}
          and (d.tenant_id, d.endpoint_id) > (w.tenant_id, w.endpoint_id)
          and (${upTo?.tenantId ?? null}::text is null
               or (d.tenant_id, d.endpoint_id) <= (${upTo?.tenantId ?? null}::text, ${upTo?.endpointId ?? null}::text))
        order by d.tenant_id, d.endpoint_id limit 1) nx
      where w.n < ${maxEndpoints}::int
    )
    select w.tenant_id, w.endpoint_id, w.n, coalesce(x.enabled, false) as sending, x.max_in_flight,
           x.circuit_state, x.circuit_until <= ${opts.now} as circuit_due
    from w left join endpoints x on x.tenant_id = w.tenant_id and x.id = w.endpoint_id
    order by w.n`.execute(db);
  if (walked.rows.length === 0) return { deliveries: [], walkEnd: null };
  const last = walked.rows[walked.rows.length - 1];
  const walkEnd =
    walked.rows.length >= maxEndpoints ? { tenantId: last.tenant_id, endpointId: last.endpoint_id } : null;

  // 2. Circuits whose cool-down is over get one probe: half open under a lease. The update re-checks
  // the row it locks, so of two processes only one wins the probe.
  const due = walked.rows.filter(
    (e) =>
      e.sending &&
      e.circuit_state !== 'closed' &&
      e.circuit_due &&
      (inFlight.get(`${e.tenant_id}:${e.endpoint_id}`) ?? 0) < (e.max_in_flight ?? 1),
  );
  const probes = new Set<string>();
  if (due.length) {
    const won = await sql<{ tenant_id: string; id: string }>`/* prepared */
      update endpoints x set circuit_state = 'half_open', circuit_until = ${until}
      from unnest(${due.map((e) => e.tenant_id)}::text[], ${due.map((e) => e.endpoint_id)}::text[]) as u(t, e)
      where x.tenant_id = u.t and x.id = u.e and x.enabled
        and x.circuit_state <> 'closed' and x.circuit_until <= ${opts.now}
      returning x.tenant_id, x.id`.execute(db);
    for (const p of won.rows) probes.add(`${p.tenant_id}:${p.id}`);
  }

  // 3. Each endpoint's room: deleted or disabled endpoints all of theirs (the worker closes them
  // without an attempt), a probe one, an open circuit only manual retries, otherwise max_in_flight
  // minus what this process has in flight there.
  const lims = [];
  for (const e of walked.rows) {
    const key = `${e.tenant_id}:${e.endpoint_id}`;
    const probe = probes.has(key);
    const room = !e.sending
      ? opts.limit
      : probe
        ? 1
        : Math.max(0, Math.min((e.max_in_flight ?? 1) - (inFlight.get(key) ?? 0), opts.limit));
    if (room > 0)
      lims.push({
        t: e.tenant_id,
        e: e.endpoint_id,
        n: room,
        o: e.n,
        p: probe,
        m: e.sending && e.circuit_state !== 'closed' && !probe,
      });
  }
  if (lims.length === 0) return { deliveries: [], walkEnd };

  // 4. Take each endpoint's oldest due deliveries within its room, then round-robin: the first of
  // every endpoint before the second of any, interleaved across tenants, up to `limit`.
  const r = await sql<ClaimedDelivery>`/* prepared */
    with l as (
      select * from json_to_recordset(${JSON.stringify(lims)}::json) as l(t text, e text, n int, o int, p boolean, m boolean)
    ), c as (
      select l.t, l.e, l.o, l.p, x.id, x.next_attempt_at from l cross join lateral (
        select d.id, d.next_attempt_at from deliveries d
        where not l.m and d.status = 'pending' and d.tenant_id = l.t and d.endpoint_id = l.e
          and d.next_attempt_at <= ${opts.now} and (d.locked_until is null or d.locked_until < ${opts.now})
        order by d.next_attempt_at
        limit l.n
        for update of d skip locked) x
      union all
      -- an open circuit: manual retries only, found through deliveries_manual, not the backlog
      select l.t, l.e, l.o, l.p, x.id, x.next_attempt_at from l cross join lateral (
        select d.id, d.next_attempt_at from deliveries d
        where l.m and d.status = 'pending' and d.manual and d.tenant_id = l.t and d.endpoint_id = l.e
          and d.next_attempt_at <= ${opts.now} and (d.locked_until is null or d.locked_until < ${opts.now})
        order by d.next_attempt_at
        limit l.n
        for update of d skip locked) x
    ), chosen as (
      select t, id, p from (
        select c.*, row_number() over (partition by c.t order by c.rn, c.o) as rt
        from (select c.*, row_number() over (partition by c.t, c.e order by c.next_attempt_at) as rn from c) c
      ) ranked
      order by p desc, rt, o
      limit ${opts.limit}::int
    ), d as (
      update deliveries d set locked_until = ${until}, locked_by = ${opts.workerId}
      from chosen c where d.tenant_id = c.t and d.id = c.id
      returning d.tenant_id, d.id, d.message_id, d.endpoint_id, d.attempts, d.manual, c.p as probe
    )
    select d.*, e.event_type, e.data::text as data_json, e.context, e.created_at as event_created_at
    from d join events e on e.tenant_id = d.tenant_id and e.id = d.message_id`.execute(db);
  return { deliveries: r.rows, walkEnd };
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
  /** The half-open circuit's probe. */
  probe?: boolean;
  /** What the delivery becomes. */
  status: 'delivered' | 'pending' | 'failed';
  nextAttemptAt: Date | null;
};

/** When an endpoint's circuit opens and how long it stays open (docs/api.md §5.7). */
export type CircuitRules = {
  /** Consecutive failed or timed-out attempts that open the circuit. */
  failures: number;
  /** The first cool-down, in seconds; each failed probe doubles it… */
  cooldownS: number;
  /** …up to this. */
  maxCooldownS: number;
};

export const DEFAULT_CIRCUIT: CircuitRules = { failures: 5, cooldownS: 30, maxCooldownS: 600 };

export type RecordedAttempts = {
  /** Per endpoint that failed (tenant:endpoint): since when it has been failing. */
  failingSince: Map<string, Date>;
  /** Endpoints whose circuit this write opened (or re-opened after a failed probe) or closed. */
  circuits: {
    tenantId: string;
    endpointId: string;
    state: 'open' | 'closed';
    until: Date | null;
    failures: number;
  }[];
  /** Delivery ids whose lease this worker no longer held: nothing was recorded for them. */
  lost: Set<string>;
};

/**
 * Records attempts and moves their deliveries on, in one statement for a batch; also keeps each
 * endpoint's `failing_since` (null after a success, the first failure's time otherwise) and its
 * circuit, and writes `message.attempt.exhausted` for the deliveries given up on that `exhausted`
 * picks — in the same transaction, so the news cannot be lost between the two. `results` are in
 * the order the attempts ended. An attempt whose delivery this worker no longer holds (its lease
 * was given back or taken over) records nothing.
 */
export async function recordAttempts(
  db: Kysely<DB>,
  workerId: string,
  now: Date,
  results: AttemptResult[],
  exhausted: (r: AttemptResult) => boolean = () => false,
  circuit: CircuitRules = DEFAULT_CIRCUIT,
): Promise<RecordedAttempts> {
  const out: RecordedAttempts = { failingSince: new Map(), circuits: [], lost: new Set() };
  if (results.length === 0) return out;
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
  // Per endpoint, in the order the attempts ended: failures after the last success, and the probe's
  // outcome (a success anywhere closes the circuit; a failed probe re-opens it for longer).
  const perEndpoint = new Map<
    string,
    { t: string; e: string; any_ok: boolean; trail: number; probe_failed: boolean }
  >();
  for (const x of results) {
    const key = `${x.tenantId}:${x.endpointId}`;
    const pe = perEndpoint.get(key) ?? {
      t: x.tenantId,
      e: x.endpointId,
      any_ok: false,
      trail: 0,
      probe_failed: false,
    };
    if (x.ok) {
      pe.any_ok = true;
      pe.trail = 0;
    } else {
      pe.trail++;
      if (x.probe) pe.probe_failed = true;
    }
    perEndpoint.set(key, pe);
  }
  const failures = Math.max(1, circuit.failures);
  const nf = sql`(case when pe.any_ok then pe.trail else ep.circuit_failures + pe.trail end)`;
  const reopen = sql`(pe.probe_failed and ep.circuit_state = 'half_open')`;
  const open = sql`(${nf} >= ${failures}::int and (pe.any_ok or ep.circuit_state = 'closed'))`;
  const longer = sql`least(ep.circuit_cooldown_s * 2, ${circuit.maxCooldownS}::int)`;
  const r = await sql<{
    tenant_id: string;
    id: string;
    any_ok: boolean;
    failing_since: Date | null;
    new_state: string | null;
    old_state: string | null;
    until: Date | null;
    failures: number | null;
    lost: string[] | null;
  }>`/* prepared */
    with u as (
      select * from json_to_recordset(${JSON.stringify(rows)}::json)
        as u(tenant_id text, attempt_id text, delivery_id text, message_id text, endpoint_id text, ok boolean,
             response_status int, response_body text, duration_ms int, error text, manual boolean, status text,
             next_attempt_at timestamptz, exhausted_id text)
    ), d as (
      update deliveries d set status = u.status, attempts = d.attempts + 1, next_attempt_at = u.next_attempt_at,
        locked_until = null, locked_by = null, last_response_status = u.response_status, last_error = u.error,
        manual = case when u.status = 'pending' then false else d.manual end,
        updated_at = ${now}::timestamptz,
        delivered_at = case when u.status = 'delivered' then ${now}::timestamptz else d.delivered_at end
      from u where d.tenant_id = u.tenant_id and d.id = u.delivery_id and d.locked_by = ${workerId}
      returning d.tenant_id, d.id
    ), a as (
      insert into attempts (tenant_id, id, delivery_id, message_id, endpoint_id, status, response_status,
                            response_body, duration_ms, error, manual, created_at)
      select u.tenant_id, u.attempt_id, u.delivery_id, u.message_id, u.endpoint_id,
             case when u.ok then 'succeeded' else 'failed' end, u.response_status, u.response_body, u.duration_ms,
             u.error, u.manual, ${now}::timestamptz
      from u join d on d.tenant_id = u.tenant_id and d.id = u.delivery_id
      returning 1
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
    ), pe as (
      select * from json_to_recordset(${JSON.stringify([...perEndpoint.values()])}::json)
        as pe(t text, e text, any_ok boolean, trail int, probe_failed boolean)
    ), changed as (
      -- Written only when something changes: a healthy endpoint's row is not rewritten (and locked)
      -- by every batch of every worker. Every expression reads the row as it is when locked, so two
      -- workers recording at once both count.
      update endpoints ep set
        failing_since = case when pe.any_ok then null else coalesce(ep.failing_since, ${now}::timestamptz) end,
        circuit_failures = ${nf},
        circuit_state = case when ${reopen} or ${open} then 'open' when pe.any_ok then 'closed' else ep.circuit_state end,
        circuit_cooldown_s = case when ${reopen} then ${longer}
                                  when ${open} or pe.any_ok then ${circuit.cooldownS}::int
                                  else ep.circuit_cooldown_s end,
        circuit_until = case when ${reopen} then ${now}::timestamptz + ${longer} * interval '1 second'
                             when ${open} then ${now}::timestamptz + ${circuit.cooldownS}::int * interval '1 second'
                             when pe.any_ok then null
                             else ep.circuit_until end
      from pe
      where ep.tenant_id = pe.t and ep.id = pe.e
        and not (pe.any_ok and pe.trail = 0 and ep.failing_since is null and ep.circuit_failures = 0
                 and ep.circuit_state = 'closed')
      returning ep.tenant_id, ep.id, ep.circuit_state, ep.circuit_until, ep.circuit_failures
    )
    -- (every part of one statement sees the rows as they were before it: null means "from now")
    select pe.t as tenant_id, pe.e as id, pe.any_ok, coalesce(ep.failing_since, ${now}::timestamptz) as failing_since,
           ch.circuit_state as new_state, ep.circuit_state as old_state, ch.circuit_until as until,
           ch.circuit_failures as failures, null::text[] as lost
    from pe join endpoints ep on ep.tenant_id = pe.t and ep.id = pe.e
    left join changed ch on ch.tenant_id = pe.t and ch.id = pe.e
    union all
    select null, null, null, null, null, null, null, null,
           (select array_agg(u.delivery_id) from u
            where not exists (select 1 from d where d.tenant_id = u.tenant_id and d.id = u.delivery_id))`.execute(
    db,
  );
  for (const row of r.rows) {
    if (row.tenant_id === null) {
      for (const id of row.lost ?? []) out.lost.add(id);
      continue;
    }
    const key = `${row.tenant_id}:${row.id}`;
    if (!row.any_ok && row.failing_since) out.failingSince.set(key, new Date(row.failing_since));
    const opened =
      row.new_state === 'open' && (row.old_state !== 'open' || perEndpoint.get(key)?.probe_failed);
    const closed = row.new_state === 'closed' && row.old_state !== 'closed';
    if (opened || closed)
      out.circuits.push({
        tenantId: row.tenant_id,
        endpointId: row.id,
        state: opened ? 'open' : 'closed',
        until: row.until ? new Date(row.until) : null,
        failures: Number(row.failures ?? 0),
      });
  }
  return out;
}

/** Gives leases back without an attempt (shutdown): the deliveries are due as they were. */
export async function releaseDeliveries(
  db: Kysely<DB>,
  workerId: string,
  items: { tenantId: string; id: string }[],
): Promise<void> {
  if (!items.length) return;
  await sql`/* prepared */update deliveries d set locked_until = null, locked_by = null
    from unnest(${items.map((i) => i.tenantId)}::text[], ${items.map((i) => i.id)}::text[]) as u(tenant_id, id)
    where d.tenant_id = u.tenant_id and d.id = u.id and d.locked_by = ${workerId}`.execute(db);
}

/** Gives deliveries back without an attempt (rate limit, shutdown): tried again at `at`. */
export async function postponeDeliveries(
  db: Kysely<DB>,
  workerId: string,
  items: { tenantId: string; id: string }[],
  at: Date,
): Promise<void> {
  if (!items.length) return;
  await sql`/* prepared */update deliveries d set locked_until = null, locked_by = null, next_attempt_at = ${at}
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
