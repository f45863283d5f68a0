/** /api/v1/credentials: created with their data, listed without it (type, name, last four characters). */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { badRequest, notFound } from '../api/errors.ts';
import { type ApiDocs, principal, validate } from '../api/http.ts';
import {
  credentialDataSchemas,
  isStoredCredentialType,
  STORED_CREDENTIAL_TYPES,
} from '../core/verify/index.ts';
import type { Database } from '../db/connect.ts';
import { notifyCache } from '../db/notify.ts';
import {
  createCredential,
  deleteCredential,
  getCredentialSummary,
  listCredentials,
  updateCredential,
} from './store.ts';

const createBody = z
  .object({
    name: z.string().trim().min(1).max(200),
    type: z.enum(STORED_CREDENTIAL_TYPES),
    data: z.record(z.string(), z.unknown()),
  })
  .strict();
const updateBody = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    data: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

function parseData(type: string, data: unknown): Record<string, unknown> {
  if (!isStoredCredentialType(type)) throw badRequest('invalid_request', `Unknown credential type "${type}"`);
  const r = (credentialDataSchemas[type] as z.ZodType).safeParse(data);
  if (!r.success) {
    const errors = r.error.issues.map((i) => ({ field: ['data', ...i.path].join('.'), msg: i.message }));
    throw badRequest('invalid_request', `Invalid ${type} credential: ${errors[0].field}: ${errors[0].msg}`, {
      errors,
    });
  }
  return r.data as Record<string, unknown>;
}

export function registerCredentialRoutes(
  app: FastifyInstance,
  docs: ApiDocs,
  database: Database,
  secretKey: Buffer,
): void {
  docs.route(
    app,
    {
      method: 'POST',
      url: '/api/v1/credentials',
      summary: 'Store a credential (encrypted; never returned)',
      tag: 'Credentials',
      body: createBody,
      status: 201,
    },
    async (req, reply) => {
      const p = principal(req);
      const body = validate(createBody, req.body);
      const data = parseData(body.type, body.data);
      reply.code(201);
      return createCredential(database, secretKey, {
        tenantId: p.tenantId,
        name: body.name,
        type: body.type,
        data,
      });
    },
  );
  docs.route(
    app,
    {
      method: 'GET',
      url: '/api/v1/credentials',
      summary: 'List credentials (name, type, last four characters)',
      tag: 'Credentials',
    },
    async (req) => {
      return { data: await listCredentials(database, principal(req).tenantId) };
    },
  );
  docs.route(
    app,
    {
      method: 'GET',
      url: '/api/v1/credentials/:id',
      summary: 'One credential, without its data',
      tag: 'Credentials',
    },
    async (req) => {
      const c = await getCredentialSummary(
        database,
        principal(req).tenantId,
        (req.params as { id: string }).id,
      );
      if (!c) throw notFound('Credential');
      return c;
    },
  );
  docs.route(
    app,
    {
      method: 'PATCH',
      url: '/api/v1/credentials/:id',
      summary: 'Rename a credential or replace its data',
      tag: 'Credentials',
      body: updateBody,
    },
    async (req) => {
      const p = principal(req);
      const { id } = req.params as { id: string };
      const body = validate(updateBody, req.body);
      const current = await getCredentialSummary(database, p.tenantId, id);
      if (!current) throw notFound('Credential');
      const data = body.data === undefined ? undefined : parseData(current.type, body.data);
      const updated = await updateCredential(database, secretKey, p.tenantId, id, { name: body.name, data });
      await notifyCache(database.db, `tenant:${p.tenantId}`);
      return updated;
    },
  );
  docs.route(
    app,
    {
      method: 'DELETE',
      url: '/api/v1/credentials/:id',
      summary: 'Delete a credential',
      tag: 'Credentials',
      status: 204,
    },
    async (req, reply) => {
      const p = principal(req);
      if (!(await deleteCredential(database, p.tenantId, (req.params as { id: string }).id)))
        throw notFound('Credential');
      await notifyCache(database.db, `tenant:${p.tenantId}`);
      return reply.code(204).send();
    },
  );
}
