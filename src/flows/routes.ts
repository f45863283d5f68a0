/** /api/v1/flows: CRUD of flow documents, and the sample tools of webhook nodes. */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { HttpError, notFound } from '../api/errors.ts';
import { type ApiDocs, limitSchema, page, principal, validate } from '../api/http.ts';
import { bodyFromPairs, deriveFields, type Field, fieldsFromPairs } from '../core/fields.ts';
import {
  allNodes,
  type FlowDocument,
  type FlowNode,
  type FlowProblem,
  validateFlowDocument,
  webhookNodes,
  webhookUrl,
} from '../core/flowDocument.ts';
import { getCredentialSummary } from '../credentials/store.ts';
import type { Database } from '../db/connect.ts';
import { getNodeDefinition } from '../nodes/index.ts';
import { nextRuns } from './scheduleRoutes.ts';
import {
  deleteFlow,
  type FlowRow,
  getFlow,
  getFlowVersion,
  getSample,
  insertFlow,
  listFlows,
  listFlowVersions,
  openListenWindow,
  replaceFlow,
  type SavedBy,
  saveSample,
} from './store.ts';

export const LISTEN_WINDOW_S = 180;

const versionsQuery = z.object({
  limit: limitSchema,
  cursor: z.coerce.number().int().min(1).optional(),
});
const listQuery = z.object({
  search: z.string().max(2000).optional(),
  limit: limitSchema,
  cursor: z.string().max(100).optional(),
});
const sampleBody = z.union([
  z.object({ json: z.unknown() }).strict(),
  z
    .object({
      pairs: z
        .array(z.object({ key: z.string().max(500), value: z.string().max(100_000) }).strict())
        .max(500),
    })
    .strict(),
]);
const flowDocSchemaForDocs = z.object({
  name: z.string(),
  enabled: z.boolean().optional(),
  nodes: z.array(
    z.object({
      id: z.string(),
      type: z.string(),
      position: z.object({ x: z.number(), y: z.number() }).optional(),
      config: z.record(z.string(), z.unknown()),
    }),
  ),
  edges: z.array(
    z.object({ from: z.string(), to: z.string(), when: z.union([z.boolean(), z.string()]).optional() }),
  ),
  settings: z.record(z.string(), z.unknown()).optional(),
});

export function flowView(row: FlowRow, publicUrl: string, nowMs = Date.now()) {
  const hooks = webhookNodes({ nodes: row.nodes as FlowNode[] });
  const urls = new Map(
    hooks.map((n, i) => [n.id, webhookUrl(publicUrl, row.tenant_id, row.id, n.id, i === 0)]),
  );
  return {
    id: row.id,
    tenant_id: row.tenant_id,
    name: row.name,
    enabled: row.enabled,
    nodes: (row.nodes as FlowNode[]).map((n) =>
      urls.has(n.id)
        ? { ...n, url: urls.get(n.id) }
        : n.type === 'schedule'
          ? { ...n, next_runs: nextRuns(n, row.enabled, nowMs) }
          : n,
    ),
    schedules: (row.nodes as FlowNode[])
      .filter((n) => n.type === 'schedule')
      .map((n) => ({
        node_id: n.id,
        cron: n.config.cron,
        timezone: n.config.timezone,
        next_runs: nextRuns(n, row.enabled, nowMs),
      })),
    edges: row.edges,
    settings: row.settings,
    webhooks: hooks.map((n) => ({ node_id: n.id, url: urls.get(n.id) })),
    version: row.version,
    // docs/api.md §3.12: the current draft's revision (null: none).
    draft_revision: row.draft_revision ?? null,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

function invalidFlow(problems: FlowProblem[]): HttpError {
  const p = problems[0];
  const where = p.node ? `node ${p.node}, ${p.field}` : p.field;
  return new HttpError(400, 'invalid_flow', `Invalid flow: ${where}: ${p.msg}`, { errors: problems });
}

/** Strips fields the API adds to responses (url) so a GET body can be PUT back as is. */
function stripViewFields(input: unknown): unknown {
  if (!input || typeof input !== 'object') return input;
  const {
    id: _id,
    tenant_id: _t,
    webhooks: _w,
    schedules: _s,
    version: _v,
    draft_revision: _d,
    created_at: _c,
    updated_at: _u,
    ...rest
  } = input as Record<string, unknown>;
  if (Array.isArray(rest.nodes))
    rest.nodes = rest.nodes.map((n) => {
      if (!n || typeof n !== 'object') return n;
      const { url: _url, next_runs: _next, ...node } = n as Record<string, unknown>;
      return node;
    });
  return rest;
}

export async function validateDocument(
  database: Database,
  tenantId: string,
  input: unknown,
  selfId?: string,
): Promise<FlowDocument> {
  const r = validateFlowDocument(stripViewFields(input));
  if (!r.ok) throw invalidFlow(r.problems);
  const problems: FlowProblem[] = [];
  for (const node of allNodes(r.flow.nodes)) {
    for (const ref of getNodeDefinition(node.type)?.credentialRefs?.(node.config) ?? []) {
      const field = `config.${ref.field}`;
      const cred = await getCredentialSummary(database, tenantId, ref.id);
      if (!cred) problems.push({ node: node.id, field, msg: `credential "${ref.id}" does not exist` });
      else if (!ref.types.includes(cred.type))
        problems.push({
          node: node.id,
          field,
          msg: `credential "${ref.id}" is a ${cred.type} credential, not ${ref.types.length === 1 ? ref.types[0] : `one of ${ref.types.join(', ')}`}`,
        });
    }
    // A flow a node starts (subflow) is one of this tenant's; this flow itself too (nesting is bounded).
    for (const ref of getNodeDefinition(node.type)?.flowRefs?.(node.config) ?? [])
      if (ref.id !== selfId && !(await getFlow(database, tenantId, ref.id)))
        problems.push({
          node: node.id,
          field: `config.${ref.field}`,
          msg: `flow "${ref.id}" does not exist in this tenant`,
        });
  }
  // The error flow (§4.4) is a flow of this tenant (this flow itself included: an error run never
  // starts another error run, so no loop).
  const errorFlowId = r.flow.settings.error_flow_id;
  if (errorFlowId && errorFlowId !== selfId && !(await getFlow(database, tenantId, errorFlowId)))
    problems.push({
      field: 'settings.error_flow_id',
      msg: `flow "${errorFlowId}" does not exist in this tenant`,
    });
  if (problems.length) throw invalidFlow(problems);
  return r.flow;
}

/**
 * Saves a kept document — a version restored, a draft published — as the flow's next version,
 * keeping its `enabled`; checked again as any save (a credential or flow it names may be gone since:
 * 400 naming it). `publishing`: the draft revision this publishes (see replaceFlow).
 */
export async function saveAsNextVersion(
  database: Database,
  current: FlowRow,
  kept: { name: string; nodes: unknown[]; edges: unknown[]; settings: Record<string, unknown> },
  at: Date,
  by: SavedBy,
  publishing?: number,
): Promise<FlowRow> {
  const doc = await validateDocument(
    database,
    current.tenant_id,
    {
      name: kept.name,
      enabled: current.enabled,
      nodes: kept.nodes,
      edges: kept.edges,
      settings: kept.settings,
    },
    current.id,
  );
  const row = await replaceFlow(database, current.tenant_id, current.id, doc, at, by, publishing);
  if (!row) throw notFound('Flow');
  return row;
}

export function registerFlowRoutes(
  app: FastifyInstance,
  docs: ApiDocs,
  database: Database,
  publicUrl: string,
  now: () => number = Date.now,
): void {
  const mustGet = async (tenantId: string, id: string) => {
    const row = await getFlow(database, tenantId, id);
    if (!row) throw notFound('Flow');
    return row;
  };
  const webhookNode = (row: FlowRow, nodeId: string) => {
    const node = (row.nodes as FlowNode[]).find((n) => n.id === nodeId);
    if (!node) throw notFound('Node');
    if (node.type !== 'webhook')
      throw new HttpError(400, 'not_a_webhook_node', `Node ${nodeId} is a ${node.type} node, not a webhook`);
    return node;
  };

  docs.route(
    app,
    {
      method: 'POST',
      url: '/api/v1/flows',
      summary: 'Create a flow',
      tag: 'Flows',
      body: flowDocSchemaForDocs,
      status: 201,
    },
    async (req, reply) => {
      const p = principal(req);
      const doc = await validateDocument(database, p.tenantId, req.body);
      reply.code(201);
      return flowView(
        await insertFlow(database, p.tenantId, doc, new Date(now()), { keyId: p.keyId }),
        publicUrl,
        now(),
      );
    },
  );
  docs.route(
    app,
    {
      method: 'GET',
      url: '/api/v1/flows',
      summary: 'List flows; search matches name or id (also an id inside a pasted hook URL)',
      tag: 'Flows',
      query: listQuery,
    },
    async (req) => {
      const p = principal(req);
      const q = validate(listQuery, req.query, 'query');
      const rows = await listFlows(database, p.tenantId, q);
      return { ...page(rows, q.limit), data: rows.map((r) => flowView(r, publicUrl, now())) };
    },
  );
  docs.route(
    app,
    {
      method: 'GET',
      url: '/api/v1/flows/:id',
      summary: 'One flow, with the public URL of each webhook node',
      tag: 'Flows',
    },
    async (req) => {
      const row = await mustGet(principal(req).tenantId, (req.params as { id: string }).id);
      return flowView(row, publicUrl, now());
    },
  );
  docs.route(
    app,
    {
      method: 'PUT',
      url: '/api/v1/flows/:id',
      summary: 'Replace a flow',
      tag: 'Flows',
      body: flowDocSchemaForDocs,
    },
    async (req) => {
      const p = principal(req);
      const { id } = req.params as { id: string };
      const doc = await validateDocument(database, p.tenantId, req.body, id);
      const row = await replaceFlow(database, p.tenantId, id, doc, new Date(now()), { keyId: p.keyId });
      if (!row) throw notFound('Flow');
      return flowView(row, publicUrl, now());
    },
  );
  docs.route(
    app,
    {
      method: 'PATCH',
      url: '/api/v1/flows/:id',
      summary: 'Change some top-level fields of a flow (name, enabled, nodes, edges, settings)',
      tag: 'Flows',
    },
    async (req) => {
      const p = principal(req);
      const { id } = req.params as { id: string };
      if (!req.body || typeof req.body !== 'object' || Array.isArray(req.body))
        throw new HttpError(400, 'invalid_request', 'Send a JSON object with the fields to change');
      const current = await mustGet(p.tenantId, id);
      const merged = {
        name: current.name,
        enabled: current.enabled,
        nodes: current.nodes,
        edges: current.edges,
        settings: current.settings,
        ...(stripViewFields(req.body) as object),
      };
      const doc = await validateDocument(database, p.tenantId, merged, id);
      const row = await replaceFlow(database, p.tenantId, id, doc, new Date(now()), { keyId: p.keyId });
      if (!row) throw notFound('Flow');
      return flowView(row, publicUrl, now());
    },
  );
  docs.route(
    app,
    {
      method: 'DELETE',
      url: '/api/v1/flows/:id',
      summary: 'Delete a flow (its runs are kept)',
      tag: 'Flows',
      status: 204,
    },
    async (req, reply) => {
      const p = principal(req);
      if (!(await deleteFlow(database, p.tenantId, (req.params as { id: string }).id)))
        throw notFound('Flow');
      return reply.code(204).send();
    },
  );

  // Versions (docs/api.md §3.11): every save is kept; a restore is a new save of an old version.
  const versionNumber = (raw: string) => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1)
      throw new HttpError(400, 'invalid_request', 'A version is a number: 1, 2, …');
    return n;
  };
  docs.route(
    app,
    {
      method: 'GET',
      url: '/api/v1/flows/:id/versions',
      summary: "A flow's versions, newest first (every save is one)",
      tag: 'Flows',
      query: versionsQuery,
    },
    async (req) => {
      const p = principal(req);
      const { id } = req.params as { id: string };
      await mustGet(p.tenantId, id);
      const q = validate(versionsQuery, req.query, 'query');
      const rows = await listFlowVersions(database, p.tenantId, id, { limit: q.limit, before: q.cursor });
      return {
        data: rows,
        next_cursor: rows.length === q.limit ? String(rows[rows.length - 1]!.version) : null,
      };
    },
  );
  docs.route(
    app,
    {
      method: 'GET',
      url: '/api/v1/flows/:id/versions/:version',
      summary: 'One version of a flow, with its document',
      tag: 'Flows',
    },
    async (req) => {
      const p = principal(req);
      const { id, version } = req.params as { id: string; version: string };
      await mustGet(p.tenantId, id);
      const v = await getFlowVersion(database, p.tenantId, id, versionNumber(version));
      if (!v) throw notFound('Version');
      return v;
    },
  );
  docs.route(
    app,
    {
      method: 'POST',
      url: '/api/v1/flows/:id/versions/:version/restore',
      summary: 'Roll back: save an earlier version again, as the next version',
      tag: 'Flows',
    },
    async (req) => {
      const p = principal(req);
      const { id, version } = req.params as { id: string; version: string };
      const current = await mustGet(p.tenantId, id);
      const n = versionNumber(version);
      const v = await getFlowVersion(database, p.tenantId, id, n);
      if (!v) throw notFound('Version');
      const row = await saveAsNextVersion(database, current, v, new Date(now()), {
        keyId: p.keyId,
        note: `restored from version ${n}`,
      });
      return flowView(row, publicUrl, now());
    },
  );

  docs.route(
    app,
    {
      method: 'POST',
      url: '/api/v1/flows/:id/nodes/:node_id/listen',
      summary: 'Capture the next request to this webhook (3-minute window)',
      tag: 'Samples',
    },
    async (req) => {
      const p = principal(req);
      const { id, node_id } = req.params as { id: string; node_id: string };
      const row = await mustGet(p.tenantId, id);
      webhookNode(row, node_id);
      const expiresAt = await openListenWindow(database, p.tenantId, id, node_id, LISTEN_WINDOW_S);
      const view = flowView(row, publicUrl);
      return { expires_at: expiresAt, url: view.webhooks.find((w) => w.node_id === node_id)?.url };
    },
  );
  docs.route(
    app,
    {
      method: 'GET',
      url: '/api/v1/flows/:id/nodes/:node_id/sample',
      summary: 'The captured sample request and the fields derived from it',
      tag: 'Samples',
    },
    async (req) => {
      const p = principal(req);
      const { id, node_id } = req.params as { id: string; node_id: string };
      webhookNode(await mustGet(p.tenantId, id), node_id);
      const s = await getSample(database, p.tenantId, id, node_id);
      const listening =
        s?.listening_until && s.listening_until.getTime() > Date.now() ? s.listening_until : null;
      if (!s?.request) {
        if (listening) return { status: 'listening', expires_at: listening, request: null, fields: [] };
        throw new HttpError(
          404,
          'no_sample',
          'No sample has been captured for this node; POST …/listen and send a request',
        );
      }
      const request = s.request as {
        body?: unknown;
        query?: Record<string, unknown>;
        headers?: Record<string, unknown>;
      };
      return {
        status: listening ? 'listening' : 'captured',
        expires_at: listening,
        captured_at: s.captured_at,
        request,
        fields: deriveFields({ body: request.body, query: request.query }),
      };
    },
  );
  docs.route(
    app,
    {
      method: 'POST',
      url: '/api/v1/flows/:id/nodes/:node_id/sample',
      summary: 'Derive fields from JSON or key-value pairs instead of a request',
      tag: 'Samples',
      body: sampleBody,
    },
    async (req) => {
      const p = principal(req);
      const { id, node_id } = req.params as { id: string; node_id: string };
      webhookNode(await mustGet(p.tenantId, id), node_id);
      const body = validate(sampleBody, req.body);
      let request: Record<string, unknown>;
      let fields: Field[];
      if ('pairs' in body) {
        request = { method: null, headers: {}, query: {}, body: bodyFromPairs(body.pairs), source: 'pairs' };
        fields = fieldsFromPairs(body.pairs);
      } else {
        request = { method: null, headers: {}, query: {}, body: body.json ?? null, source: 'json' };
        fields = deriveFields({ body: body.json });
      }
      try {
        await saveSample(database, p.tenantId, id, node_id, request);
      } catch (err) {
        if (String((err as { code?: string }).code).startsWith('22'))
          throw new HttpError(
            400,
            'unstorable_sample',
            'The sample contains text that cannot be stored (NUL characters or broken UTF-16)',
          );
        throw err;
      }
      return { request, fields };
    },
  );
}
