/**
 * /api/v1/endpoints (docs/api.md §5.1): outbound webhooks. The signing secret is shown once, on create and
 * on rotation; lists and details show auth only by its type and non-secret parts.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { HttpError, notFound } from '../../api/errors.ts';
import { type ApiDocs, limitSchema, page, principal, validate } from '../../api/http.ts';
import { compileTemplate } from '../../core/templates.ts';
import type { Database } from '../../db/connect.ts';
import { registerEndpointCheckRoute } from '../check.ts';
import type { OutboundClient } from '../httpClient.ts';
import { authSchema, headersSchema, urlSchema } from './schema.ts';
import {
  createEndpoint,
  DefaultEndpointConflict,
  deleteEndpoint,
  type EndpointAuthInput,
  EndpointAuthSecretMissing,
  EndpointCredentialError,
  getEndpoint,
  listEndpoints,
  rotateEndpointSecret,
  updateEndpoint,
} from './store.ts';

const eventsSchema = z
  .array(
    z
      .string()
      .trim()
      .min(1)
      .max(200)
      .regex(/^[^\s\0]+$/, 'An event type may not contain spaces'),
  )
  .max(200)
  // "*" means every event; duplicates are dropped.
  .transform((events) => (events.includes('*') ? ['*'] : [...new Set(events)]));

const bodySchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('envelope') }).strict(),
  z
    .object({
      type: z.literal('template'),
      template: z
        .string()
        .min(1)
        .max(100_000)
        .superRefine((text, ctx) => {
          const r = compileTemplate(text);
          if (!r.ok) ctx.addIssue({ code: 'custom', message: `Invalid template: ${r.error}` });
        }),
    })
    .strict(),
]);

const MAX_RETRY_DELAY_S = 7 * 24 * 3600;

const fields = (requireSecret: boolean) => ({
  name: z.string().trim().min(1).max(200),
  url: urlSchema,
  method: z.enum(['POST', 'PUT', 'PATCH']),
  events: eventsSchema,
  auth: authSchema(requireSecret),
  headers: headersSchema,
  is_default: z.boolean(),
  enabled: z.boolean(),
  rate_limit_per_s: z.number().int().min(1).max(100_000).nullable(),
  max_in_flight: z.number().int().min(1).max(1000),
  body: bodySchema,
  retry_schedule: z.array(z.number().int().min(0).max(MAX_RETRY_DELAY_S)).min(1).max(50).nullable(),
});

const createFields = fields(true);
const createBody = z
  .object({
    name: createFields.name,
    url: createFields.url,
    method: createFields.method.optional(),
    events: createFields.events.optional(),
    auth: createFields.auth.optional(),
    headers: createFields.headers.optional(),
    is_default: createFields.is_default.optional(),
    enabled: createFields.enabled.optional(),
    rate_limit_per_s: createFields.rate_limit_per_s.optional(),
    max_in_flight: createFields.max_in_flight.optional(),
    body: createFields.body.optional(),
    retry_schedule: createFields.retry_schedule.optional(),
  })
  .strict();

const updateFields = fields(false);
const updateBody = z
  .object({
    name: updateFields.name.optional(),
    url: updateFields.url.optional(),
    method: updateFields.method.optional(),
    events: updateFields.events.optional(),
    auth: updateFields.auth.optional(),
    headers: updateFields.headers.optional(),
    is_default: updateFields.is_default.optional(),
    enabled: updateFields.enabled.optional(),
    rate_limit_per_s: updateFields.rate_limit_per_s.optional(),
    max_in_flight: updateFields.max_in_flight.optional(),
    body: updateFields.body.optional(),
    retry_schedule: updateFields.retry_schedule.optional(),
  })
  .strict();

const booleanQuery = z.enum(['true', 'false']).transform((v) => v === 'true');
const listQuery = z.object({
  event_type: z.string().trim().min(1).max(200).optional(),
  enabled: booleanQuery.optional(),
  is_default: booleanQuery.optional(),
  limit: limitSchema,
  cursor: z.string().max(100).optional(),
});

/** Store errors in the API's shape. */
function mapStoreError(err: unknown): never {
  if (err instanceof DefaultEndpointConflict)
    throw new HttpError(409, 'default_endpoint_conflict', err.message);
  if (err instanceof EndpointCredentialError)
    throw new HttpError(400, 'invalid_request', `Invalid body: auth.credential_id: ${err.message}`, {
      errors: [{ field: 'auth.credential_id', msg: err.message }],
    });
  if (err instanceof EndpointAuthSecretMissing)
    throw new HttpError(400, 'invalid_request', `Invalid body: auth.${err.field}: ${err.message}`, {
      errors: [{ field: `auth.${err.field}`, msg: err.message }],
    });
  throw err;
}

export function registerEndpointRoutes(
  app: FastifyInstance,
  docs: ApiDocs,
  database: Database,
  secretKey: Buffer,
  now: () => number = Date.now,
): void {
  registerEndpointCheckRoute(app, docs, {
    database,
    secretKey,
    client: (app as FastifyInstance & { hookflow: { client: OutboundClient } }).hookflow.client,
  });
  docs.route(
    app,
    {
      method: 'POST',
      url: '/api/v1/endpoints',
      summary: 'Create an outbound endpoint; the response shows its signing secret once',
      tag: 'Endpoints',
      body: createBody,
      status: 201,
    },
    async (req, reply) => {
      const p = principal(req);
      const body = validate(createBody, req.body);
      const created = await createEndpoint(database, secretKey, p.tenantId, {
        ...body,
        auth: body.auth as EndpointAuthInput | undefined,
      }).catch(mapStoreError);
      reply.code(201);
      return created;
    },
  );
  docs.route(
    app,
    {
      method: 'GET',
      url: '/api/v1/endpoints',
      summary: 'List outbound endpoints, newest first (no secrets)',
      tag: 'Endpoints',
      query: listQuery,
    },
    async (req) => {
      const p = principal(req);
      const q = validate(listQuery, req.query, 'query');
      const rows = await listEndpoints(database, p.tenantId, {
        eventType: q.event_type,
        enabled: q.enabled,
        isDefault: q.is_default,
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
      url: '/api/v1/endpoints/:id',
      summary: 'One outbound endpoint (no secrets)',
      tag: 'Endpoints',
    },
    async (req) => {
      const ep = await getEndpoint(database, principal(req).tenantId, (req.params as { id: string }).id);
      if (!ep) throw notFound('Endpoint');
      return ep;
    },
  );
  docs.route(
    app,
    {
      method: 'PATCH',
      url: '/api/v1/endpoints/:id',
      summary: 'Change some fields of an endpoint (an inline auth secret left out is kept)',
      tag: 'Endpoints',
      body: updateBody,
    },
    async (req) => {
      const p = principal(req);
      const { id } = req.params as { id: string };
      const body = validate(updateBody, req.body);
      const updated = await updateEndpoint(database, secretKey, p.tenantId, id, {
        ...body,
        auth: body.auth as EndpointAuthInput | undefined,
      }).catch(mapStoreError);
      if (!updated) throw notFound('Endpoint');
      return updated;
    },
  );
  docs.route(
    app,
    {
      method: 'POST',
      url: '/api/v1/endpoints/:id/rotate-secret',
      summary: 'New signing secret (shown once); the old one keeps signing too for 24 h',
      tag: 'Endpoints',
    },
    async (req) => {
      const p = principal(req);
      const rotated = await rotateEndpointSecret(
        database,
        secretKey,
        p.tenantId,
        (req.params as { id: string }).id,
        { nowMs: now() },
      );
      if (!rotated) throw notFound('Endpoint');
      return rotated;
    },
  );
  docs.route(
    app,
    {
      method: 'DELETE',
      url: '/api/v1/endpoints/:id',
      summary: 'Delete an endpoint',
      tag: 'Endpoints',
      status: 204,
    },
    async (req, reply) => {
      const p = principal(req);
      if (!(await deleteEndpoint(database, p.tenantId, (req.params as { id: string }).id)))
        throw notFound('Endpoint');
      return reply.code(204).send();
    },
  );
}
