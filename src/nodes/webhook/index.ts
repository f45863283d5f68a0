/**
 * The webhook trigger (docs/api.md §3.3): its config is the inbound endpoint's — methods, auth,
 * parameters, response mode, GET verification, idempotency, provider preset. The inbound route
 * (src/ingest) does its work; in a run the trigger only records the request's method and path.
 */
import { z } from 'zod';
import { parsePath } from '../../core/paths.ts';
import { PRESET_IDS, presetAuthProblem } from '../../core/presets/index.ts';
import { CREDENTIAL_TYPES } from '../../core/verify/index.ts';
import type { ConfigProblem, NodeDefinition } from '../types.ts';
import { HTTP_METHODS, headersSchema, templateString } from '../util.ts';

export const WEBHOOK_AUTH_TYPES = ['none', ...CREDENTIAL_TYPES] as const;

export const webhookConfigSchema = z
  .object({
    methods: z.array(z.enum(HTTP_METHODS)).min(1).default(['POST']),
    /** A provider preset (docs/api.md §3.10): its handshake and de-duplication; `auth` must be its type. */
    preset: z.enum(PRESET_IDS).optional(),
    auth: z
      .object({
        type: z.enum(WEBHOOK_AUTH_TYPES),
        credential_id: z.string().min(1).optional(),
      })
      .strict()
      .refine((a) => a.type === 'none' || a.credential_id, {
        message:
          'every auth type but "none" names a stored credential: {"type": "...", "credential_id": "..."}',
        path: ['credential_id'],
      })
      .default({ type: 'none' }),
    parameters: z
      .array(
        z
          .object({
            source: z.enum(['body', 'query', 'headers']),
            // "" is the whole body (a text body's one derived field); query and headers need a name.
            path: z.string().max(500),
            type: z
              .enum(['string', 'number', 'integer', 'boolean', 'object', 'array', 'null', 'any'])
              .optional(),
            required: z.boolean().default(false),
          })
          .strict()
          .refine((p) => p.path.trim() !== '' || p.source === 'body', {
            message: 'only a body parameter may have an empty path (the whole body)',
            path: ['path'],
          }),
      )
      .max(500)
      .default([]),
    full_body_parameter: z.boolean().default(false),
    response: z
      .discriminatedUnion('mode', [
        z.object({ mode: z.literal('ack') }).strict(),
        z
          .object({
            mode: z.literal('custom'),
            status: z.number().int().min(200).max(599).default(200),
            content_type: templateString.default('application/json'),
            headers: headersSchema.default({}),
            body: z
              .union([templateString, z.record(z.string(), z.unknown()), z.array(z.unknown())])
              .default(''),
          })
          .strict(),
        z
          .object({
            mode: z.literal('flow'),
            timeout_ms: z.number().int().min(100).max(300_000).default(30_000),
            fallback: z
              .object({
                status: z.number().int().min(200).max(599).default(504),
                content_type: templateString.default('application/json'),
                body: z.union([templateString, z.record(z.string(), z.unknown())]).optional(),
              })
              .strict()
              .optional(),
          })
          .strict(),
      ])
      .default({ mode: 'ack' }),
    verification: z
      .object({
        status: z.number().int().min(200).max(599).default(200),
        content_type: templateString.default('application/json'),
        headers: headersSchema.default({}),
        body: templateString.default('{"status":"ok"}'),
      })
      .strict()
      .optional(),
    idempotency: z
      .object({
        header: z.string().min(1).max(200).default('Idempotency-Key'),
        window_s: z
          .number()
          .int()
          .min(1)
          .max(30 * 86400)
          .default(86400),
      })
      .strict()
      .optional(),
    max_body_bytes: z
      .number()
      .int()
      .min(1)
      .max(100 * 1024 * 1024)
      .optional(),
  })
  .strict();
export type WebhookConfig = z.infer<typeof webhookConfigSchema>;

export const webhookNode: NodeDefinition<WebhookConfig> = {
  type: 'webhook',
  catalog: {
    label: 'Webhook',
    description: 'Starts the flow when a request arrives at its URL',
    category: 'trigger',
    trigger: true,
    terminal: false,
    edges: 'plain',
    initial_config: { methods: ['POST'], auth: { type: 'none' }, parameters: [], response: { mode: 'ack' } },
    fields: [],
    panel: 'webhook',
    summary: ['{methods} · answers {response.mode}', '{methods} · answers ack'],
    note: null,
    output:
      '{method, path} of the request; the request itself is Webhook::Body, ::Headers, ::Query, ::Method',
  },
  schema: webhookConfigSchema,
  validate: (config) => {
    const problems: ConfigProblem[] = [];
    const presetProblem = config.preset && presetAuthProblem(config.preset, config.auth.type);
    if (presetProblem) problems.push({ field: 'auth.type', msg: presetProblem });
    for (const [i, p] of config.parameters.entries()) {
      const pp = parsePath(p.path);
      if (!pp.ok) problems.push({ field: `parameters[${i}].path`, msg: pp.error });
    }
    return problems;
  },
  credentialRefs: (config) =>
    config.auth.type !== 'none' && config.auth.credential_id
      ? [{ field: 'auth.credential_id', id: config.auth.credential_id, types: [config.auth.type] }]
      : [],
  // A second trigger reached by an edge is refused on save; in a run the trigger passes through.
  execute: async ({ state }) => ({
    kind: 'done',
    output: { method: state.trigger.method, path: state.trigger.path },
  }),
};
