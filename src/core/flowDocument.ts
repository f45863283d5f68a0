/**
 * The flow document of docs/api.md §3.2 (nodes, edges, settings; node configs in §3.3 and §4.3):
 * its schema, per-node config checks and graph rules. Pure: returns every problem found, each
 * naming the node and the field, so the API can answer one 400 and the UI can mark the nodes.
 */
import { z } from 'zod';
import { PRESET_IDS, presetAuthProblem } from './presets/index.ts';
import { CREDENTIAL_TYPES } from './verify/index.ts';
import { parsePath } from './paths.ts';
import { compileTemplate, validateTemplatesDeep } from './templates.ts';

export const NODE_TYPES = [
  'webhook',
  'set',
  'if',
  'switch',
  'transform',
  'http',
  'webhook_call',
  'emit',
  'delay',
  'respond',
  'fail',
] as const;
export type NodeType = (typeof NODE_TYPES)[number];

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export const WEBHOOK_AUTH_TYPES = ['none', ...CREDENTIAL_TYPES] as const;

const nodeId = z
  .string()
  .regex(
    /^[a-z][a-z0-9_]{0,63}$/,
    'node ids are lower-case labels like webhook_1 (letters, digits, _; at most 64)',
  );

const templateString = z.string().max(100_000);

const headersSchema = z.record(
  z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'not a valid header name'),
  templateString,
);

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

const anyObject = z.record(z.string(), z.unknown());

/** Per-type config schemas; every string leaf is also checked as a template. */
const configSchemas: Record<NodeType, z.ZodType> = {
  webhook: webhookConfigSchema,
  set: z
    .object({
      values: z.record(
        z
          .string()
          .regex(/^(flow\.key|vars)\.[A-Za-z_][\w.-]*$/, 'keys are "flow.key.<name>" or "vars.<name>"'),
        z.unknown(),
      ),
    })
    .strict(),
  if: z.object({ condition: z.union([templateString, z.boolean()]) }).strict(),
  switch: z.object({ value: templateString }).strict(),
  transform: z
    .object({
      expression: z.string().min(1).max(100_000),
      into: z
        .string()
        .regex(/^(flow\.key|vars)\.[A-Za-z_][\w.-]*$/, 'into is "vars.<name>" or "flow.key.<name>"'),
    })
    .strict(),
  http: z
    .object({
      method: z.enum(HTTP_METHODS).default('GET'),
      url: templateString.min(1),
      headers: headersSchema.default({}),
      query: z.record(z.string(), templateString).optional(),
      body: z.unknown().optional(),
      credential_id: z.string().min(1).optional(),
      timeout_ms: z.number().int().min(1).max(300_000).default(15_000),
      /** A 4xx/5xx answer fails the node (and the run) unless this is false. */
      fail_on_error_status: z.boolean().default(true),
    })
    .strict(),
  webhook_call: z
    .object({
      endpoint_id: z.string().min(1),
      method_name: templateString.optional(),
      params: z.array(z.enum(['call', 'flow.key', 'user.key'])).default(['call']),
      body: z.unknown().optional(),
      into: z
        .string()
        .regex(/^(flow\.key|vars)\.[A-Za-z_][\w.-]*$/)
        .optional(),
    })
    .strict(),
  emit: z
    .object({
      event_type: z.string().regex(/^[a-zA-Z0-9_.-]{1,200}$/, 'event types are like order.created'),
      data: z.unknown().optional(),
    })
    .strict(),
  delay: z
    .object({
      ms: z
        .number()
        .int()
        .min(0)
        .max(365 * 86400_000)
        .optional(),
      until: templateString.optional(),
    })
    .strict()
    .refine((d) => (d.ms === undefined) !== (d.until === undefined), 'give exactly one of "ms" or "until"'),
  respond: z
    .object({
      status: z.number().int().min(100).max(599).default(200),
      content_type: templateString.optional(),
      headers: headersSchema.default({}),
      body: z.unknown().optional(),
    })
    .strict(),
  fail: z.object({ message: templateString.default('Flow failed') }).strict(),
};

const nodeSchema = z.object({
  id: nodeId,
  type: z.string(),
  position: z.object({ x: z.number(), y: z.number() }).optional(),
  config: anyObject.default({}),
  name: z.string().max(200).optional(),
});

const edgeSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    when: z.union([z.boolean(), z.string()]).optional(),
    id: z.string().optional(),
  })
  .strict();

export const settingsSchema = z
  .object({
    send_to_default_webhook: z.boolean().default(false),
    notify: z
      .object({
        on_failure: z.array(z.email()).max(50).default([]),
        on_success: z.array(z.email()).max(50).default([]),
      })
      .strict()
      .default({ on_failure: [], on_success: [] }),
    max_concurrency: z.number().int().min(1).max(100_000).nullable().default(null),
    timeout_ms: z
      .number()
      .int()
      .min(1000)
      .max(7 * 86400_000)
      .default(300_000),
  })
  .strict();

export const flowInputSchema = z
  .object({
    name: z.string().trim().min(1, 'a flow needs a name').max(200),
    enabled: z.boolean().default(true),
    nodes: z.array(z.unknown()).max(500).default([]),
    edges: z.array(z.unknown()).max(2000).default([]),
    settings: z.unknown().optional(),
  })
  .strict();

export type FlowNode = {
  id: string;
  type: NodeType;
  position?: { x: number; y: number };
  name?: string;
  config: any;
};
export type FlowEdge = { from: string; to: string; when?: boolean | string; id?: string };
export type FlowSettings = z.infer<typeof settingsSchema>;
export type FlowDocument = {
  name: string;
  enabled: boolean;
  nodes: FlowNode[];
  edges: FlowEdge[];
  settings: FlowSettings;
};

export type FlowProblem = { node?: string; edge?: number; field: string; msg: string };

/**
 * Validates and normalises a flow document (defaults filled). Returns every problem, each naming
 * the node (or edge index) and field.
 */
export function validateFlowDocument(
  input: unknown,
): { ok: true; flow: FlowDocument } | { ok: false; problems: FlowProblem[] } {
  const problems: FlowProblem[] = [];
  const top = flowInputSchema.safeParse(input);
  if (!top.success) {
    return {
      ok: false,
      problems: top.error.issues.map((i) => ({ field: i.path.join('.') || '(document)', msg: i.message })),
    };
  }
  const nodes: FlowNode[] = [];
  const seen = new Set<string>();
  top.data.nodes.forEach((raw, index) => {
    const parsed = nodeSchema.safeParse(raw);
    const label = (raw as { id?: unknown })?.id;
    const where = typeof label === 'string' ? label : `nodes[${index}]`;
    if (!parsed.success) {
      for (const i of parsed.error.issues)
        problems.push({ node: where, field: i.path.join('.') || '(node)', msg: i.message });
      return;
    }
    const node = parsed.data;
    if (seen.has(node.id)) {
      problems.push({ node: node.id, field: 'id', msg: `duplicate node id "${node.id}"` });
      return;
    }
    seen.add(node.id);
    if (!(NODE_TYPES as readonly string[]).includes(node.type)) {
      problems.push({
        node: node.id,
        field: 'type',
        msg: `unknown node type "${node.type}" (one of ${NODE_TYPES.join(', ')})`,
      });
      return;
    }
    const type = node.type as NodeType;
    const cfg = configSchemas[type].safeParse(node.config);
    if (!cfg.success) {
      for (const i of cfg.error.issues)
        problems.push({ node: node.id, field: ['config', ...i.path].join('.'), msg: i.message });
      return;
    }
    for (const t of validateTemplatesDeep(
      type === 'transform' ? { ...(cfg.data as object), expression: '' } : cfg.data,
    ))
      problems.push({ node: node.id, field: `config.${t.path}`, msg: t.error });
    if (type === 'transform') {
      // Compiled exactly as the engine runs it: a `${= …}` expression (Webhook:: paths allowed).
      const expr = (cfg.data as { expression: string }).expression;
      const compiled = compileTemplate(`\${= ${expr}}`);
      if (!compiled.ok) problems.push({ node: node.id, field: 'config.expression', msg: compiled.error });
    }
    if (type === 'webhook') {
      const webhook = cfg.data as WebhookConfig;
      const presetProblem = webhook.preset && presetAuthProblem(webhook.preset, webhook.auth.type);
      if (presetProblem) problems.push({ node: node.id, field: 'config.auth.type', msg: presetProblem });
      for (const [i, p] of webhook.parameters.entries()) {
        const pp = parsePath(p.path);
        if (!pp.ok) problems.push({ node: node.id, field: `config.parameters[${i}].path`, msg: pp.error });
      }
    }
    nodes.push({ id: node.id, type, position: node.position, name: node.name, config: cfg.data });
  });

  const byId = new Map(nodes.map((n) => [n.id, n]));
  const edges: FlowEdge[] = [];
  top.data.edges.forEach((raw, index) => {
    const parsed = edgeSchema.safeParse(raw);
    if (!parsed.success) {
      for (const i of parsed.error.issues)
        problems.push({ edge: index, field: `edges[${index}].${i.path.join('.')}`, msg: i.message });
      return;
    }
    const e = parsed.data;
    const from = byId.get(e.from);
    const to = byId.get(e.to);
    if (!from && !seen.has(e.from))
      problems.push({
        edge: index,
        field: `edges[${index}].from`,
        msg: `edge from unknown node "${e.from}"`,
      });
    if (!to && !seen.has(e.to))
      problems.push({ edge: index, field: `edges[${index}].to`, msg: `edge to unknown node "${e.to}"` });
    if (to?.type === 'webhook')
      problems.push({
        node: to.id,
        edge: index,
        field: `edges[${index}].to`,
        msg: `a webhook trigger cannot have incoming edges (from "${e.from}")`,
      });
    if (e.from === e.to)
      problems.push({
        node: e.from,
        edge: index,
        field: `edges[${index}]`,
        msg: 'an edge cannot loop to its own node',
      });
    if (from?.type === 'if' && typeof e.when !== 'boolean')
      problems.push({
        node: from.id,
        edge: index,
        field: `edges[${index}].when`,
        msg: 'edges out of an "if" node carry "when": true or false',
      });
    if (from?.type === 'switch' && typeof e.when !== 'string')
      problems.push({
        node: from.id,
        edge: index,
        field: `edges[${index}].when`,
        msg: 'edges out of a "switch" node carry "when": "<case>" (or "default")',
      });
    edges.push(e);
  });

  if (problems.length === 0) {
    const cycle = findCycle(nodes, edges);
    if (cycle)
      problems.push({ node: cycle[0], field: 'edges', msg: `the flow has a cycle: ${cycle.join(' → ')}` });
  }

  const settings = settingsSchema.safeParse(top.data.settings ?? {});
  if (!settings.success)
    for (const i of settings.error.issues)
      problems.push({ field: ['settings', ...i.path].join('.'), msg: i.message });

  if (problems.length) return { ok: false, problems };
  return {
    ok: true,
    flow: { name: top.data.name, enabled: top.data.enabled, nodes, edges, settings: settings.data! },
  };
}

function findCycle(nodes: FlowNode[], edges: FlowEdge[]): string[] | undefined {
  const out = new Map<string, string[]>();
  for (const e of edges) out.set(e.from, [...(out.get(e.from) ?? []), e.to]);
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const visit = (id: string): string[] | undefined => {
    state.set(id, 1);
    stack.push(id);
    for (const next of out.get(id) ?? []) {
      if (state.get(next) === 1) return [...stack.slice(stack.indexOf(next)), next];
      if (!state.has(next)) {
        const c = visit(next);
        if (c) return c;
      }
    }
    stack.pop();
    state.set(id, 2);
    return undefined;
  };
  for (const n of nodes) {
    if (!state.has(n.id)) {
      const c = visit(n.id);
      if (c) return c;
    }
  }
  return undefined;
}

/** Webhook nodes in document order: the first is reachable at the flow's bare URL. */
export function webhookNodes(flow: { nodes: FlowNode[] }): FlowNode[] {
  return flow.nodes.filter((n) => n.type === 'webhook');
}

/** Public URL of a webhook node: the first at /hooks/{tenant}/{flow}, the others at …/{node_id}. */
export function webhookUrl(
  publicUrl: string,
  tenantId: string,
  flowId: string,
  nodeId: string,
  first: boolean,
): string {
  const base = `${publicUrl}/hooks/${encodeURIComponent(tenantId)}/${encodeURIComponent(flowId)}`;
  return first ? base : `${base}/${encodeURIComponent(nodeId)}`;
}
