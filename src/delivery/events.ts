/**
 * /api/v1/events and /api/v1/event-types (docs/api.md §5.4): publishing an event from outside a flow, and
 * the event-type catalog. An event is a message: the `events_fan_out` trigger creates its
 * deliveries (one per subscribed endpoint) in the statement that inserts it.
 */
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { z } from 'zod';
import { HttpError } from '../api/errors.ts';
import { type ApiDocs, principal, validate } from '../api/http.ts';
import { Batcher } from '../core/batcher.ts';
import { newId } from '../core/ids.ts';
import type { Database } from '../db/connect.ts';

/** Types Hookflow itself publishes; the API may not publish them (subscribers trust their shape). */
export const BUILTIN_EVENT_TYPES = [
  'endpoint.disabled',
  'flow.completed',
  'flow.failed',
  'message.attempt.exhausted',
  'run.started',
  'webhook.received',
] as const;

const BUILTIN = new Set<string>(BUILTIN_EVENT_TYPES);

export const EVENT_TYPE_PATTERN = /^[a-zA-Z0-9_.-]{1,200}$/;

const publishBody = z
  .object({
    event_type: z
      .string()
      .regex(EVENT_TYPE_PATTERN, 'An event type is 1–200 letters, digits, "_", "." or "-"'),
    /** Any JSON value; absent = {}. */
    data: z.unknown().optional(),
  })
  .strict();

export type PublishedEvent = { id: string; event_type: string; created_at: Date };

type NewEvent = { tenantId: string; eventType: string; data: unknown; now: Date };

/**
 * Inserts events (source `api`) and records their types in the catalog, in one statement; the
 * fan-out trigger creates their deliveries and wakes the delivery workers in the same transaction.
 */
async function insertEvents(database: Database, events: NewEvent[]): Promise<PublishedEvent[]> {
  const rows = events.map((e) => ({
    t: e.tenantId,
    i: newId('evt', e.now.getTime()),
    et: e.eventType,
    d: e.data === undefined ? {} : e.data,
    c: { tenant_id: e.tenantId },
    at: e.now.toISOString(),
  }));
  await sql`/* prepared */
    with u as (
      select * from json_to_recordset(${JSON.stringify(rows)}::json) as u(t text, i text, et text, d jsonb, c jsonb, at timestamptz)
    ), ev as (
      insert into events (tenant_id, id, event_type, data, context, source, created_at)
      select t, i, et, d, c, 'api', at from u
      returning tenant_id, event_type
    )
    insert into event_types (tenant_id, name) select distinct tenant_id, event_type from ev
    on conflict do nothing`.execute(database.db);
  return rows.map((r, k) => ({ id: r.i, event_type: r.et, created_at: events[k].now }));
}

/**
 * Publishes events from the API with group commit: the events of concurrent requests share one
 * statement (and one commit), answered only once it has committed.
 */
export class EventPublisher {
  private readonly batcher: Batcher<NewEvent, PublishedEvent>;

  constructor(database: Database) {
    this.batcher = new Batcher((events) => insertEvents(database, events), {
      maxBatch: 500,
      maxInFlight: database.kind === 'pglite' ? 1 : 4,
    });
  }

  publish(
    tenantId: string,
    eventType: string,
    data: unknown,
    now: Date = new Date(),
  ): Promise<PublishedEvent> {
    return this.batcher.add({ tenantId, eventType, data, now });
  }
}

/** The builtin catalog plus every type this tenant has used, sorted, each once. */
export async function listEventTypes(
  database: Database,
  tenantId: string,
): Promise<{ name: string; builtin: boolean }[]> {
  const rows = await database.db
    .selectFrom('event_types')
    .select('name')
    .where('tenant_id', '=', tenantId)
    .execute();
  const names = new Set<string>([...BUILTIN_EVENT_TYPES, ...rows.map((r) => r.name)]);
  return [...names].sort().map((name) => ({ name, builtin: BUILTIN.has(name) }));
}

export function registerEventRoutes(
  app: FastifyInstance,
  docs: ApiDocs,
  database: Database,
  now: () => number = Date.now,
): void {
  const publisher = new EventPublisher(database);
  docs.route(
    app,
    {
      method: 'POST',
      url: '/api/v1/events',
      summary: 'Publish an event to every endpoint subscribed to its type',
      tag: 'Messages',
      body: publishBody,
      status: 202,
    },
    async (req, reply) => {
      const p = principal(req);
      const body = validate(publishBody, req.body);
      if (BUILTIN.has(body.event_type))
        throw new HttpError(
          400,
          'reserved_event_type',
          `"${body.event_type}" is published by Hookflow itself; choose another event type`,
          { errors: [{ field: 'event_type', msg: 'Reserved for Hookflow' }] },
        );
      const ev = await publisher.publish(p.tenantId, body.event_type, body.data, new Date(now()));
      reply.code(202);
      return ev;
    },
  );
  docs.route(
    app,
    {
      method: 'GET',
      url: '/api/v1/event-types',
      summary: 'The event-type catalog: builtin types and every type a flow or the API has used',
      tag: 'Messages',
    },
    async (req) => ({ data: await listEventTypes(database, principal(req).tenantId) }),
  );
}
