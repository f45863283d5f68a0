/**
 * "Run now" (docs/api.md §3.1): `POST /api/v1/flows/:id/run` starts a run of a flow as if one of
 * its triggers had received the given request. The API key authenticates it, so the webhook
 * node's credential, allowlist, preset handshakes, idempotency and response mode do not apply;
 * its methods, required parameters and parameter types do, exactly as on the inbound endpoint
 * (src/ingest/route.ts). A disabled flow can be run this way (to try it before enabling it).
 * The run is stored queued, its trigger marked `manual`, in one statement; workers take it as any.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { HttpError, notFound } from '../api/errors.ts';
import { type ApiDocs, principal, validate } from '../api/http.ts';
import type { ParsedBody } from '../core/body.ts';
import type { Parameter } from '../core/fields.ts';
import { type FlowNode, webhookNodes, webhookUrl } from '../core/flowDocument.ts';
import { newId } from '../core/ids.ts';
import type { Database } from '../db/connect.ts';
import { checkStorableQuery, parameterProblem, storedTrigger } from '../ingest/route.ts';
import { getNodeDefinition } from '../nodes/index.ts';
import type { WebhookConfig } from '../nodes/webhook/index.ts';
import { insertQueuedRuns } from './runsStore.ts';
import { scheduleTrigger } from './scheduler.ts';
import { getFlow } from './store.ts';

const runNowBody = z
  .object({
    node_id: z.string().min(1).max(200).optional(),
    method: z.string().min(1).max(20).optional(),
    headers: z.record(z.string().min(1).max(200), z.string().max(100_000)).optional(),
    query: z.record(z.string().max(500), z.union([z.string(), z.array(z.string())])).optional(),
    body: z.unknown().optional(),
  })
  .strict();

export type RunNowOptions = {
  /** The node's default body limit (`HOOKFLOW_MAX_BODY_BYTES`; a webhook's `max_body_bytes` wins). */
  maxBodyBytes: number;
};

export function registerRunNowRoute(
  app: FastifyInstance,
  docs: ApiDocs,
  database: Database,
  opts: RunNowOptions,
): void {
  docs.route(
    app,
    {
      method: 'POST',
      url: '/api/v1/flows/:id/run',
      summary: 'Run now: start a run as if a trigger (node_id, default the first) had received this request',
      tag: 'Flows',
      body: runNowBody,
      status: 201,
    },
    async (req, reply) => {
      const p = principal(req);
      const { id } = req.params as { id: string };
      const input = validate(runNowBody, req.body ?? {});
      const flow = await getFlow(database, p.tenantId, id);
      if (!flow) throw notFound('Flow');
      const nodes = flow.nodes as FlowNode[];
      const isTrigger = (n: FlowNode) => getNodeDefinition(n.type)?.catalog.trigger === true;
      let node: FlowNode | undefined;
      if (input.node_id !== undefined) {
        node = nodes.find((n) => n.id === input.node_id);
        if (!node)
          throw new HttpError(400, 'unknown_node', `node_id: the flow has no node "${input.node_id}"`, {
            field: 'node_id',
          });
        if (!isTrigger(node))
          throw new HttpError(
            400,
            'not_a_trigger',
            `node_id: ${node.id} is a ${node.type} node, not a trigger (the flow's triggers: ${
              nodes
                .filter(isTrigger)
                .map((n) => n.id)
                .join(', ') || 'none'
            })`,
            { field: 'node_id' },
          );
      } else {
        node = nodes.find(isTrigger);
        if (!node) throw new HttpError(400, 'no_trigger', 'The flow has no trigger node to run');
      }

      const body: ParsedBody =
        input.body === undefined ? { kind: 'empty', value: null } : { kind: 'json', value: input.body };
      const raw = input.body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(input.body));
      const headers: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(input.headers ?? {})) headers[k.toLowerCase()] = v;
      const query = input.query ?? {};
      const queryProblem = checkStorableQuery(query);
      if (queryProblem) throw new HttpError(400, 'invalid_query', queryProblem);

      let trigger: Record<string, unknown>;
      // The raw body kept with the run (for reruns): a webhook's, as if it had been sent.
      let rawBody: Buffer | null = null;
      if (node.type === 'webhook') {
        const config = node.config as WebhookConfig;
        if (body.kind === 'json' && headers['content-type'] === undefined)
          headers['content-type'] = 'application/json';
        rawBody = raw.length ? raw : null;
        const method = (input.method ?? 'POST').toUpperCase();
        if (!(config.methods as string[]).includes(method))
          throw new HttpError(
            400,
            'method_not_allowed',
            `method: ${node.id} accepts ${listOr(config.methods)}, not ${method}`,
            { field: 'method', allowed: config.methods },
          );
        const limit = config.max_body_bytes ?? opts.maxBodyBytes;
        if (raw.length > limit)
          throw new HttpError(
            400,
            'body_too_large',
            `The body is larger than ${node.id}'s limit of ${limit} bytes`,
            { limit_bytes: limit },
          );
        const bad = parameterProblem(config.parameters as Parameter[], {
          body: body.value,
          query,
          headers,
        });
        if (bad) throw new HttpError(400, bad.code, bad.msg, bad.details);
        const hooks = webhookNodes({ nodes });
        trigger = storedTrigger({
          method,
          path: webhookUrl('', p.tenantId, flow.id, node.id, hooks[0]?.id === node.id),
          headers,
          query,
          body,
          contentType: (headers['content-type'] as string | undefined) ?? null,
          ip: null,
          raw,
          fullBody: config.full_body_parameter,
        });
      } else {
        // Another trigger type (a schedule): its own method, and the body it would get — for a
        // schedule the tick of now ({time, cron, timezone}), with what `body` gives over it.
        const method = node.type.toUpperCase();
        if (input.method !== undefined && input.method.toUpperCase() !== method)
          throw new HttpError(
            400,
            'method_not_allowed',
            `method: a run of a ${node.type} trigger has method ${method}`,
            { field: 'method', allowed: [method] },
          );
        if (node.type === 'schedule') {
          if (input.body !== undefined && !isObject(input.body))
            throw new HttpError(
              400,
              'invalid_request',
              'body: a schedule trigger takes an object ({time, cron, timezone}) or none',
              { errors: [{ field: 'body', msg: 'expected an object' }] },
            );
          const config = node.config as { cron: string; timezone: string };
          const tick = scheduleTrigger(new Date(), config.cron, config.timezone);
          const value = { ...(tick.body as object), ...(input.body as object | undefined) };
          trigger = {
            ...tick,
            headers,
            query,
            body: value,
            content_type: null,
            ip: null,
            size_bytes: Buffer.byteLength(JSON.stringify(value)),
          };
        } else {
          const value = input.body ?? {};
          trigger = storedTrigger({
            method,
            path: '',
            headers,
            query,
            body: { kind: 'json', value },
            contentType: null,
            ip: null,
            raw: Buffer.from(JSON.stringify(value)),
          });
        }
      }
      const key = await database.db
        .selectFrom('api_keys')
        .select(['id', 'name'])
        .where('tenant_id', '=', p.tenantId)
        .where('id', '=', p.keyId)
        .executeTakeFirst();
      trigger.manual = true;
      trigger.api_key = { id: p.keyId, name: key?.name ?? null };

      const runId = newId('run');
      await insertQueuedRuns(database.db, [
        {
          tenantId: p.tenantId,
          id: runId,
          flowId: flow.id,
          triggerNodeId: node.id,
          trigger: JSON.stringify(trigger),
          rawBody,
        },
      ]);
      reply.code(201);
      return { run_id: runId };
    },
  );
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  !!v && typeof v === 'object' && !Array.isArray(v);

function listOr(items: readonly string[]): string {
  if (items.length === 0) return 'none';
  return items.length === 1 ? items[0] : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}
