/**
 * The flow document of docs/api.md §3.2 (nodes, edges, settings): its schema and graph rules; each
 * node's config is checked by its type's definition in the node registry (src/nodes). Pure:
 * returns every problem found, each naming the node and the field, so the API can answer one 400
 * and the UI can mark the nodes.
 */
import { z } from 'zod';
import { getNodeDefinition, NODE_TYPES } from '../nodes/index.ts';
import { validateTemplatesDeep } from './templates.ts';

const nodeId = z
  .string()
  .regex(
    /^[a-z][a-z0-9_]{0,63}$/,
    'node ids are lower-case labels like webhook_1 (letters, digits, _; at most 64)',
  );

const anyObject = z.record(z.string(), z.unknown());

/** A node's retries (docs/api.md §4.4): attempts in all, and the back-off between them. */
export const retrySchema = z
  .object({
    max_attempts: z.number().int().min(1).max(10).default(1),
    backoff_ms: z.number().int().min(0).max(86_400_000).default(1000),
    factor: z.number().min(1).max(10).default(2),
    max_backoff_ms: z
      .number()
      .int()
      .min(0)
      .max(7 * 86_400_000)
      .default(600_000),
  })
  .strict();
export type RetryPolicy = z.infer<typeof retrySchema>;
export const ON_ERROR = ['fail', 'continue', 'branch'] as const;
export type OnError = (typeof ON_ERROR)[number];

const nodeSchema = z.object({
  id: nodeId,
  type: z.string(),
  position: z.object({ x: z.number(), y: z.number() }).optional(),
  config: anyObject.default({}),
  name: z.string().max(200).optional(),
  retry: retrySchema.optional(),
  on_error: z.enum(ON_ERROR).optional(),
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
    /** A flow of the same tenant started when a run of this one fails (docs/api.md §4.4); checked on save. */
    error_flow_id: z.string().min(1, 'a flow id, or null for none').max(100).nullable().default(null),
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
  /** One of the registry's types (src/nodes). */
  type: string;
  position?: { x: number; y: number };
  name?: string;
  config: any;
  /** Attempts and back-off when the node fails (default: one attempt). */
  retry?: RetryPolicy;
  /** What a failure (after the last attempt) does: fail the run (default), continue, or take the error edges. */
  on_error?: OnError;
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
  const { nodes, edges } = validateGraph(top.data.nodes, top.data.edges, {
    seen: new Set(),
    problems,
    depth: 0,
  });

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

/** Loops inside loops: at most this deep. */
const MAX_BODY_DEPTH = 4;

/** Where a graph sits: the flow itself, or the body of a loop. */
type GraphScope = {
  /** Node ids seen so far in the whole flow: ids are unique across every body too. */
  seen: Set<string>;
  problems: FlowProblem[];
  depth: number;
  body?: { loopId: string };
};

/**
 * The nodes and edges of the flow, or of a loop's body (docs/api.md §4.3): each node checked by its
 * type's definition (a body checked the same way, recursively, and normalised), each edge against
 * the nodes of its own graph, and the graph for cycles. Problems name the node and field; a body's
 * edge problems name the loop and `config.edges[i]`.
 */
function validateGraph(
  rawNodes: unknown[],
  rawEdges: unknown[],
  scope: GraphScope,
): { nodes: FlowNode[]; edges: FlowEdge[] } {
  const { problems, seen, body } = scope;
  const nodes: FlowNode[] = [];
  const local = new Set<string>();
  const edgeProblem = (index: number, field: string, msg: string, node?: string) =>
    problems.push(
      body
        ? { node: body.loopId, field: `config.edges[${index}]${field}`, msg }
        : { ...(node ? { node } : {}), edge: index, field: `edges[${index}]${field}`, msg },
    );
  rawNodes.forEach((raw, index) => {
    const parsed = nodeSchema.safeParse(raw);
    const label = (raw as { id?: unknown })?.id;
    const where =
      typeof label === 'string' ? label : body ? `${body.loopId}.config.nodes[${index}]` : `nodes[${index}]`;
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
    local.add(node.id);
    const definition = getNodeDefinition(node.type);
    if (!definition) {
      problems.push({
        node: node.id,
        field: 'type',
        msg: `unknown node type "${node.type}" (one of ${NODE_TYPES.join(', ')})`,
      });
      return;
    }
    const type = node.type;
    if (body && (definition.catalog.trigger || definition.notInBody)) {
      const why = definition.catalog.trigger
        ? 'a trigger starts runs, it does not run once per item'
        : definition.notInBody;
      problems.push({
        node: node.id,
        field: 'type',
        msg: `a loop's body cannot hold a ${type} node: ${why}`,
      });
      return;
    }
    const cfg = definition.schema.safeParse(node.config);
    if (!cfg.success) {
      for (const i of cfg.error.issues)
        problems.push({ node: node.id, field: ['config', ...i.path].join('.'), msg: i.message });
      return;
    }
    const templates = { ...(cfg.data as object) } as Record<string, unknown>;
    for (const key of definition.notTemplates ?? []) delete templates[key];
    for (const t of validateTemplatesDeep(templates))
      problems.push({ node: node.id, field: `config.${t.path}`, msg: t.error });
    for (const p of definition.validate?.(cfg.data) ?? [])
      problems.push({ node: node.id, field: `config.${p.field}`, msg: p.msg });
    if (definition.catalog.trigger && (node.retry || node.on_error))
      problems.push({
        node: node.id,
        field: node.retry ? 'retry' : 'on_error',
        msg: 'a trigger has no retries or error handling: it runs nothing',
      });
    let config = cfg.data as Record<string, unknown>;
    if (definition.body) {
      // A node with a body (loop): its graph is checked, and normalised, like the flow's.
      const inner = definition.body(config);
      if (scope.depth + 1 > MAX_BODY_DEPTH)
        problems.push({
          node: node.id,
          field: 'config.nodes',
          msg: `loops can be nested at most ${MAX_BODY_DEPTH} deep`,
        });
      else {
        const checked = validateGraph(inner.nodes, inner.edges, {
          seen,
          problems,
          depth: scope.depth + 1,
          body: { loopId: node.id },
        });
        config = { ...config, nodes: checked.nodes, edges: checked.edges };
      }
    }
    nodes.push({
      id: node.id,
      type,
      position: node.position,
      name: node.name,
      config,
      ...(node.retry ? { retry: node.retry } : {}),
      ...(node.on_error ? { on_error: node.on_error } : {}),
    });
  });

  const byId = new Map(nodes.map((n) => [n.id, n]));
  /** Why an id that is a node of the flow is not one of this graph's. */
  const elsewhere = (id: string) =>
    !seen.has(id)
      ? ''
      : body
        ? ` (not in ${body.loopId}'s body: a body's edges stay inside it)`
        : ' (it is inside a loop: an edge reaches the loop, not its body)';
  const edges: FlowEdge[] = [];
  rawEdges.forEach((raw, index) => {
    const parsed = edgeSchema.safeParse(raw);
    if (!parsed.success) {
      for (const i of parsed.error.issues) edgeProblem(index, `.${i.path.join('.')}`, i.message);
      return;
    }
    const e = parsed.data;
    const from = byId.get(e.from);
    const to = byId.get(e.to);
    // (A node of this graph that had a problem of its own is known, and not reported again here.)
    if (!from && !local.has(e.from))
      edgeProblem(index, '.from', `edge from unknown node "${e.from}"${elsewhere(e.from)}`);
    if (!to && !local.has(e.to))
      edgeProblem(index, '.to', `edge to unknown node "${e.to}"${elsewhere(e.to)}`);
    if (to && getNodeDefinition(to.type)?.catalog.trigger)
      edgeProblem(index, '.to', `a ${to?.type} trigger cannot have incoming edges (from "${e.from}")`, to.id);
    if (e.from === e.to) edgeProblem(index, '', 'an edge cannot loop to its own node', e.from);
    // "when": "error" is the error edge of a node with on_error "branch" (a switch may also have a case "error").
    const errorEdge = e.when === 'error' && from?.on_error === 'branch';
    if (from && e.when === 'error' && !errorEdge && from.type !== 'switch')
      edgeProblem(
        index,
        '.when',
        `an edge with "when": "error" is taken only when node "${from.id}" has "on_error": "branch"`,
        from.id,
      );
    const typeProblem =
      from && e.when !== 'error' ? getNodeDefinition(from.type)?.edgeProblem?.(e) : undefined;
    if (from && typeProblem) edgeProblem(index, '.when', typeProblem, from.id);
    if (from && getNodeDefinition(from.type)?.catalog.terminal)
      edgeProblem(index, '.from', `a ${from.type} node ends its branch: it has no outgoing edges`, from.id);
    edges.push(e);
  });

  for (const n of nodes)
    if (n.on_error === 'branch' && !edges.some((e) => e.from === n.id && e.when === 'error'))
      problems.push({
        node: n.id,
        field: 'on_error',
        msg: `"on_error": "branch" needs an out-edge of "${n.id}" with "when": "error"`,
      });

  if (problems.length === 0) {
    const cycle = findCycle(nodes, edges);
    if (cycle)
      problems.push(
        body
          ? {
              node: body.loopId,
              field: 'config.edges',
              msg: `the loop's body has a cycle: ${cycle.join(' → ')}`,
            }
          : { node: cycle[0], field: 'edges', msg: `the flow has a cycle: ${cycle.join(' → ')}` },
      );
  }
  return { nodes, edges };
}

/** Every node of the flow, those inside loops' bodies included (depth first, in document order). */
export function allNodes(nodes: readonly FlowNode[]): FlowNode[] {
  const out: FlowNode[] = [];
  for (const n of nodes) {
    out.push(n);
    const inner = getNodeDefinition(n.type)?.body?.(n.config ?? {});
    if (inner) out.push(...allNodes(inner.nodes as FlowNode[]));
  }
  return out;
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
  /** The test URL (docs/api.md §3.12): runs the draft as a test run. */
  test = false,
): string {
  const base = `${publicUrl}/${test ? 'hooks-test' : 'hooks'}/${encodeURIComponent(tenantId)}/${encodeURIComponent(flowId)}`;
  return first ? base : `${base}/${encodeURIComponent(nodeId)}`;
}
