/**
 * Messages (docs/api.md §5.9): a message is an `events` row; its deliveries (one per endpoint) and their
 * attempts (one per HTTP request) are written by the fan-out trigger and the delivery workers.
 * Here: the reads of the API, a manual retry of one delivery, the recovery of an endpoint's failed
 * deliveries, and the retention purge run by the maintenance loop.
 */
import type { FastifyInstance } from 'fastify';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import { z } from 'zod';
import { HttpError, notFound } from '../api/errors.ts';
import { type ApiDocs, limitSchema, page, principal, validate } from '../api/http.ts';
import type { Database } from '../db/connect.ts';
import type { DB, DeliveryStatus } from '../db/schema.ts';
import { tenantRetentionCutoff } from '../tenants/retention.ts';
import { DELIVERIES_CHANNEL } from './store.ts';

export type DeliverySummary = Record<DeliveryStatus, number>;

export type MessageListItem = {
  id: string;
  event_type: string;
  created_at: Date;
  source: string;
  /** An event of a test or replay run: recorded, never delivered (docs/api.md §3.13). */
  held: boolean;
  delivery_summary: DeliverySummary;
};

export type DeliveryView = {
  id: string;
  endpoint_id: string;
  status: DeliveryStatus;
  attempts: number;
  manual: boolean;
  next_attempt_at: Date | null;
  last_response_status: number | null;
  last_error: string | null;
  delivered_at: Date | null;
  created_at: Date;
  updated_at: Date;
};

export type MessageView = {
  id: string;
  event_type: string;
  created_at: Date;
  source: string;
  /** An event of a test or replay run: recorded, never delivered. */
  held: boolean;
  payload: {
    event_time: string;
    event_type: string;
    current_context: Record<string, unknown>;
    data: unknown;
  };
  deliveries: DeliveryView[];
};

export type AttemptView = {
  id: string;
  endpoint_id: string;
  status: 'succeeded' | 'failed';
  response_status: number | null;
  response_body: string | null;
  duration_ms: number;
  error: string | null;
  manual: boolean;
  created_at: Date;
};

const DELIVERY_COLUMNS = sql`id, endpoint_id, status, attempts, manual, next_attempt_at, last_response_status,
  last_error, delivered_at, created_at, updated_at`;

/** The same id the fan-out trigger gives the delivery of a message to an endpoint. */
const deliveryIdSql = (messageId: string, endpointId: string) =>
  sql<string>`'dlv_' || substr(md5(${messageId}::text || ':' || ${endpointId}::text), 1, 26)`;

/**
 * Newest first; the cursor is the last id of the previous page (event ids are time-ordered).
 * `endpointId` keeps messages that have a delivery to that endpoint; `runId` the messages a run
 * caused (its `context.run_id`, indexed by events_tenant_run).
 */
export async function listMessages(
  database: Database,
  tenantId: string,
  opts: { eventType?: string; endpointId?: string; runId?: string; limit: number; cursor?: string },
): Promise<MessageListItem[]> {
  const where: RawBuilder<unknown>[] = [sql`e.tenant_id = ${tenantId}`];
  if (opts.eventType) where.push(sql`e.event_type = ${opts.eventType}`);
  if (opts.runId) where.push(sql`e.context ->> 'run_id' = ${opts.runId}`);
  if (opts.cursor) where.push(sql`e.id < ${opts.cursor}`);
  if (opts.endpointId)
    where.push(sql`exists (select 1 from deliveries x
      where x.tenant_id = e.tenant_id and x.message_id = e.id and x.endpoint_id = ${opts.endpointId})`);
  const r = await sql<MessageListItem>`
    select e.id, e.event_type, e.created_at, e.source, e.held,
      json_build_object('pending', s.pending, 'delivered', s.delivered, 'failed', s.failed,
                        'cancelled', s.cancelled) as delivery_summary
    from events e
    cross join lateral (
      select count(*) filter (where d.status = 'pending')::int as pending,
             count(*) filter (where d.status = 'delivered')::int as delivered,
             count(*) filter (where d.status = 'failed')::int as failed,
             count(*) filter (where d.status = 'cancelled')::int as cancelled
      from deliveries d where d.tenant_id = e.tenant_id and d.message_id = e.id
    ) s
    where ${sql.join(where, sql` and `)}
    order by e.id desc
    limit ${opts.limit}`.execute(database.db);
  return r.rows;
}

/** One message: its envelope as endpoints receive it, and its delivery to each endpoint. */
export async function getMessage(
  database: Database,
  tenantId: string,
  id: string,
): Promise<MessageView | undefined> {
  const ev = await database.db
    .selectFrom('events')
    .select(['id', 'event_type', 'data', 'context', 'source', 'held', 'created_at'])
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!ev) return undefined;
  const deliveries = await sql<DeliveryView>`
    select ${DELIVERY_COLUMNS} from deliveries
    where tenant_id = ${tenantId} and message_id = ${id}
    order by created_at, endpoint_id`.execute(database.db);
  // As the delivery worker builds the envelope: the internal routing flag is not shown.
  const { to_default: _, ...context } = (ev.context ?? {}) as Record<string, unknown>;
  const createdAt = new Date(ev.created_at);
  return {
    id: ev.id,
    event_type: ev.event_type,
    created_at: createdAt,
    source: ev.source,
    held: ev.held,
    payload: {
      event_time: createdAt.toISOString(),
      event_type: ev.event_type,
      current_context: context,
      data: ev.data,
    },
    deliveries: deliveries.rows,
  };
}

async function messageExists(db: Kysely<DB>, tenantId: string, id: string): Promise<boolean> {
  const row = await db
    .selectFrom('events')
    .select('id')
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * The attempts of a message, oldest first (undefined when the message does not exist). The
 * cursor is the last id of the previous page.
 */
export async function listAttempts(
  database: Database,
  tenantId: string,
  messageId: string,
  opts: { endpointId?: string; limit: number; cursor?: string },
): Promise<AttemptView[] | undefined> {
  if (!(await messageExists(database.db, tenantId, messageId))) return undefined;
  let q = database.db
    .selectFrom('attempts')
    .select([
      'id',
      'endpoint_id',
      'status',
      'response_status',
      'response_body',
      'duration_ms',
      'error',
      'manual',
      'created_at',
    ])
    .where('tenant_id', '=', tenantId)
    .where('message_id', '=', messageId);
  if (opts.endpointId) q = q.where('endpoint_id', '=', opts.endpointId);
  if (opts.cursor) q = q.where('id', '>', opts.cursor);
  return q.orderBy('id', 'asc').limit(opts.limit).execute() as Promise<AttemptView[]>;
}

export type RetryOutcome =
  | { ok: true; delivery: DeliveryView & { message_id: string } }
  | { ok: false; reason: 'message_not_found' | 'endpoint_not_found' | 'in_progress' | 'held' };

/**
 * Sends a message to an endpoint once more, now: creates or resets the delivery (the id the
 * fan-out trigger would give it) as pending and manual — tried once, not rescheduled. A delivery
 * still on its automatic schedule (pending) is only moved to now and keeps its schedule. Refused
 * while a worker holds the delivery under a live lease. The endpoint may be disabled (a manual
 * retry is the way to test it). Delivery workers are woken in the same transaction.
 */
export async function retryDelivery(
  database: Database,
  tenantId: string,
  messageId: string,
  endpointId: string,
  now: Date,
): Promise<RetryOutcome> {
  return database.db.transaction().execute(async (tx): Promise<RetryOutcome> => {
    const message = await tx
      .selectFrom('events')
      .select('held')
      .where('tenant_id', '=', tenantId)
      .where('id', '=', messageId)
      .executeTakeFirst();
    if (!message) return { ok: false, reason: 'message_not_found' };
    // An event of a test or replay run is never delivered (docs/api.md §3.13), not even by hand.
    if (message.held) return { ok: false, reason: 'held' };
    const ep = await tx
      .selectFrom('endpoints')
      .select('id')
      .where('tenant_id', '=', tenantId)
      .where('id', '=', endpointId)
      .executeTakeFirst();
    if (!ep) return { ok: false, reason: 'endpoint_not_found' };
    const r = await sql<DeliveryView & { message_id: string }>`
      insert into deliveries as d (tenant_id, id, message_id, endpoint_id, status, manual, next_attempt_at,
                                   created_at, updated_at)
      values (${tenantId}, ${deliveryIdSql(messageId, endpointId)}, ${messageId}, ${endpointId}, 'pending', true,
              ${now}, ${now}, ${now})
      on conflict (tenant_id, id) do update set
        status = 'pending',
        manual = case when d.status = 'pending' then d.manual else true end,
        next_attempt_at = excluded.next_attempt_at,
        locked_until = null, locked_by = null,
        updated_at = excluded.updated_at
      where d.locked_until is null or d.locked_until < ${now}
      returning message_id, ${DELIVERY_COLUMNS}`.execute(tx);
    const delivery = r.rows[0];
    if (!delivery) return { ok: false, reason: 'in_progress' };
    await sql`select pg_notify(${DELIVERIES_CHANNEL}, '')`.execute(tx);
    return { ok: true, delivery };
  });
}

export type RecoverOutcome =
  | { ok: true; recovered: number }
  | { ok: false; reason: 'not_found' | 'disabled' };

/**
 * Resends every failed or cancelled delivery of an endpoint created at or after `since`: each
 * becomes pending again with a fresh automatic schedule (attempts 0, not manual), due now.
 * Refused for a disabled endpoint (the workers would fail them again at once: enable it first).
 */
export async function recoverEndpoint(
  database: Database,
  tenantId: string,
  endpointId: string,
  since: Date,
  now: Date,
): Promise<RecoverOutcome> {
  return database.db.transaction().execute(async (tx): Promise<RecoverOutcome> => {
    const ep = await tx
      .selectFrom('endpoints')
      .select('enabled')
      .where('tenant_id', '=', tenantId)
      .where('id', '=', endpointId)
      .executeTakeFirst();
    if (!ep) return { ok: false, reason: 'not_found' };
    if (!ep.enabled) return { ok: false, reason: 'disabled' };
    const r = await sql`
      update deliveries set status = 'pending', attempts = 0, manual = false, next_attempt_at = ${now},
        locked_until = null, locked_by = null, updated_at = ${now}
      where tenant_id = ${tenantId} and endpoint_id = ${endpointId} and status in ('failed', 'cancelled')
        and created_at >= ${since}`.execute(tx);
    const recovered = Number(r.numAffectedRows ?? 0);
    if (recovered > 0) await sql`select pg_notify(${DELIVERIES_CHANNEL}, '')`.execute(tx);
    return { ok: true, recovered };
  });
}

/** `now() - retention` for the tenant joined as `t` (settings.retention_days, default 30). */
const retentionCutoff = tenantRetentionCutoff('retention_days');

/**
 * Retention (docs/api.md §6.2 `retention_days`, default 30), one batch per kind: attempts older than their
 * tenant's retention; then finished deliveries (delivered, failed, cancelled) older than it; then
 * messages older than it with no delivery left (so a message with a pending delivery is kept, and
 * no delivery outlives its message). Returns how many rows were deleted; the maintenance loop
 * calls it until it returns 0. Several processes may run it at once.
 */
export async function purgeDeliveredMessages(database: Database, batch = 1000): Promise<number> {
  const db = database.db;
  const attempts = await sql`
    delete from attempts where ctid in (
      select a.ctid from attempts a left join tenants t on t.id = a.tenant_id
      where a.created_at < ${retentionCutoff}
      limit ${batch})`.execute(db);
  const deliveries = await sql`
    delete from deliveries where ctid in (
      select d.ctid from deliveries d left join tenants t on t.id = d.tenant_id
      where d.status in ('delivered', 'failed', 'cancelled') and d.created_at < ${retentionCutoff}
      limit ${batch})`.execute(db);
  const events = await sql`
    delete from events where ctid in (
      select e.ctid from events e left join tenants t on t.id = e.tenant_id
      where e.created_at < ${retentionCutoff}
        and not exists (select 1 from deliveries d where d.tenant_id = e.tenant_id and d.message_id = e.id)
      limit ${batch})`.execute(db);
  return (
    Number(attempts.numAffectedRows ?? 0) +
    Number(deliveries.numAffectedRows ?? 0) +
    Number(events.numAffectedRows ?? 0)
  );
}

const idParam = z.string().trim().min(1).max(100);

const listQuery = z.object({
  event_type: z.string().trim().min(1).max(200).optional(),
  endpoint_id: idParam.optional(),
  run_id: idParam.optional(),
  limit: limitSchema,
  cursor: z.string().max(100).optional(),
});

const attemptsQuery = z.object({
  endpoint_id: idParam.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z.string().max(100).optional(),
});

const retryBody = z.object({ endpoint_id: idParam }).strict();

export function registerMessageRoutes(
  app: FastifyInstance,
  docs: ApiDocs,
  database: Database,
  now: () => number = Date.now,
): void {
  const recoverBody = z
    .object({
      since: z.iso
        .datetime({ offset: true })
        .refine((s) => Date.parse(s) <= now(), 'since may not be in the future')
        .transform((s) => new Date(s)),
    })
    .strict();

  docs.route(
    app,
    {
      method: 'GET',
      url: '/api/v1/messages',
      summary: 'List messages (published events), newest first, with a summary of their deliveries',
      tag: 'Messages',
      query: listQuery,
    },
    async (req) => {
      const p = principal(req);
      const q = validate(listQuery, req.query, 'query');
      const rows = await listMessages(database, p.tenantId, {
        eventType: q.event_type,
        endpointId: q.endpoint_id,
        runId: q.run_id,
        limit: q.limit,
        cursor: q.cursor,
      });
      return page(rows, q.limit);
    },
  );
  docs.route(
    app,
    {
      method: 'GET',
      url: '/api/v1/messages/:id',
      summary: 'One message: its payload and its delivery status per endpoint',
      tag: 'Messages',
    },
    async (req) => {
      const msg = await getMessage(database, principal(req).tenantId, (req.params as { id: string }).id);
      if (!msg) throw notFound('Message');
      return msg;
    },
  );
  docs.route(
    app,
    {
      method: 'GET',
      url: '/api/v1/messages/:id/attempts',
      summary: 'The delivery attempts of a message, oldest first',
      tag: 'Messages',
      query: attemptsQuery,
    },
    async (req) => {
      const p = principal(req);
      const q = validate(attemptsQuery, req.query, 'query');
      const rows = await listAttempts(database, p.tenantId, (req.params as { id: string }).id, {
        endpointId: q.endpoint_id,
        limit: q.limit,
        cursor: q.cursor,
      });
      if (!rows) throw notFound('Message');
      return page(rows, q.limit);
    },
  );
  docs.route(
    app,
    {
      method: 'POST',
      url: '/api/v1/messages/:id/retry',
      summary: 'Send a message to an endpoint once more, now (a manual attempt, not rescheduled)',
      tag: 'Messages',
      body: retryBody,
      status: 202,
    },
    async (req, reply) => {
      const p = principal(req);
      const body = validate(retryBody, req.body);
      const r = await retryDelivery(
        database,
        p.tenantId,
        (req.params as { id: string }).id,
        body.endpoint_id,
        new Date(now()),
      );
      if (!r.ok) {
        if (r.reason === 'message_not_found') throw notFound('Message');
        if (r.reason === 'endpoint_not_found') throw notFound('Endpoint');
        if (r.reason === 'held')
          throw new HttpError(
            409,
            'held_message',
            'This message is an event of a test or replay run: it is recorded, never delivered',
          );
        throw new HttpError(
          409,
          'delivery_in_progress',
          'This message is being sent to that endpoint right now; try again when the attempt is over',
        );
      }
      reply.code(202);
      return r.delivery;
    },
  );
  docs.route(
    app,
    {
      method: 'POST',
      url: '/api/v1/endpoints/:id/recover',
      summary: 'Resend every failed message of an endpoint since a time',
      tag: 'Endpoints',
      body: recoverBody,
      status: 202,
    },
    async (req, reply) => {
      const p = principal(req);
      const body = validate(recoverBody, req.body);
      const r = await recoverEndpoint(
        database,
        p.tenantId,
        (req.params as { id: string }).id,
        body.since,
        new Date(now()),
      );
      if (!r.ok) {
        if (r.reason === 'not_found') throw notFound('Endpoint');
        throw new HttpError(
          409,
          'endpoint_disabled',
          'The endpoint is disabled; enable it first, then recover its failed messages',
        );
      }
      reply.code(202);
      return { recovered: r.recovered };
    },
  );
}
