/**
 * The flow document of docs/api.md §3.2 and the canvas's picture of it: the component catalog (what each
 * node type is for and the config a new one starts with), conversion between the API's
 * nodes/edges and React Flow's, and the next free id for a type (`set_1`, `set_2`, …).
 */
import type { Edge, Node } from '@xyflow/react';

export type NodeType =
  | 'webhook'
  | 'set'
  | 'if'
  | 'switch'
  | 'transform'
  | 'http'
  | 'webhook_call'
  | 'emit'
  | 'delay'
  | 'respond'
  | 'fail';

export type Config = Record<string, unknown>;

export type DocNode = {
  id: string;
  type: NodeType;
  position?: { x: number; y: number };
  name?: string;
  config: Config;
  url?: string;
};
export type DocEdge = { from: string; to: string; when?: boolean | string };
export type FlowSettings = {
  send_to_default_webhook: boolean;
  notify: { on_failure: string[]; on_success: string[] };
  max_concurrency: number | null;
  timeout_ms: number;
};
export type FlowDoc = {
  id: string;
  tenant_id: string;
  name: string;
  enabled: boolean;
  nodes: DocNode[];
  edges: DocEdge[];
  settings: FlowSettings;
  webhooks: { node_id: string; url: string }[];
  updated_at: string;
};

/** One problem of a 400 `invalid_flow` answer: it names the node (or edge) and the field. */
export type FlowProblem = { node?: string; edge?: number; field: string; msg: string };

export type NodeData = {
  type: NodeType;
  config: Config;
  name?: string;
  url?: string;
  problems: FlowProblem[];
};
export type CanvasNode = Node<NodeData, 'step'>;
export type EdgeData = { when?: boolean | string };
export type CanvasEdge = Edge<EdgeData>;

export type Component = {
  type: NodeType;
  label: string;
  description: string;
  /** Trigger: no incoming edges. */
  trigger?: boolean;
  /** Ends its branch: no outgoing edges. */
  terminal?: boolean;
  initial: () => Config;
};

export const COMPONENTS: Component[] = [
  {
    type: 'webhook',
    label: 'Webhook',
    description: 'Starts the flow when a request arrives at its URL',
    trigger: true,
    initial: () => ({ methods: ['POST'], auth: { type: 'none' }, parameters: [], response: { mode: 'ack' } }),
  },
  {
    type: 'set',
    label: 'Set values',
    description: 'Assigns flow keys and variables',
    initial: () => ({ values: { 'vars.value': '${Webhook::Body}' } }),
  },
  {
    type: 'if',
    label: 'If',
    description: 'Branches on a condition: true or false',
    initial: () => ({ condition: '${= Webhook::Body.amount > 100}' }),
  },
  {
    type: 'switch',
    label: 'Switch',
    description: 'Branches on a value: one path per case',
    initial: () => ({ value: '${Webhook::Body.type}' }),
  },
  {
    type: 'transform',
    label: 'Transform',
    description: 'Computes a value with JSONata into a variable',
    initial: () => ({ expression: 'Webhook::Body', into: 'vars.result' }),
  },
  {
    type: 'http',
    label: 'HTTP request',
    description: 'Calls any HTTP API; the answer lands in steps.<id>',
    initial: () => ({ method: 'GET', url: 'https://', headers: {}, timeout_ms: 15000 }),
  },
  {
    type: 'webhook_call',
    label: 'Call webhook',
    description: 'Calls a configured outbound webhook mid-flow',
    initial: () => ({ endpoint_id: '', params: ['call'] }),
  },
  {
    type: 'emit',
    label: 'Emit event',
    description: 'Publishes an event to outbound subscribers',
    initial: () => ({ event_type: 'order.created', data: '${Webhook::Body}' }),
  },
  {
    type: 'delay',
    label: 'Delay',
    description: 'Waits (durably) for a time or until a moment',
    initial: () => ({ ms: 60000 }),
  },
  {
    type: 'respond',
    label: 'Respond',
    description: 'Answers the waiting caller (response mode "flow")',
    terminal: false,
    initial: () => ({ status: 200, content_type: 'application/json', headers: {}, body: { ok: true } }),
  },
  {
    type: 'fail',
    label: 'Fail',
    description: 'Ends the run as failed with a message',
    terminal: true,
    initial: () => ({ message: 'Flow failed' }),
  },
];

export const COMPONENT_BY_TYPE = new Map(COMPONENTS.map((c) => [c.type, c]));

/** `type_<n>` with n one more than the highest already used for that type. */
export function nextNodeId(type: NodeType, existing: Iterable<string>): string {
  let max = 0;
  const re = new RegExp(`^${type}_(\\d+)$`);
  for (const id of existing) {
    const m = re.exec(id);
    if (m) max = Math.max(max, Number(m[1]));
  }
  return `${type}_${max + 1}`;
}

/** Handles out of an `if` node are named by the branch they start. */
export function edgeId(e: DocEdge): string {
  return `${e.from}->${e.to}${e.when === undefined ? '' : `:${String(e.when)}`}`;
}

export function edgeLabel(when: boolean | string | undefined): string | undefined {
  if (when === undefined) return undefined;
  return String(when);
}

export function toCanvas(doc: Pick<FlowDoc, 'nodes' | 'edges'>): {
  nodes: CanvasNode[];
  edges: CanvasEdge[];
} {
  const nodes: CanvasNode[] = doc.nodes.map((n, i) => ({
    id: n.id,
    type: 'step',
    position: n.position ?? { x: 80 + i * 240, y: 120 },
    data: { type: n.type, config: n.config ?? {}, name: n.name, url: n.url, problems: [] },
  }));
  const types = new Map(doc.nodes.map((n) => [n.id, n.type]));
  const edges: CanvasEdge[] = doc.edges.map((e) => ({
    id: edgeId(e),
    source: e.from,
    target: e.to,
    sourceHandle: types.get(e.from) === 'if' && typeof e.when === 'boolean' ? String(e.when) : null,
    label: edgeLabel(e.when),
    data: e.when === undefined ? {} : { when: e.when },
  }));
  return { nodes, edges };
}

/** The document the API takes back (PUT): positions rounded, view-only fields left out. */
export function fromCanvas(nodes: CanvasNode[], edges: CanvasEdge[]): { nodes: DocNode[]; edges: DocEdge[] } {
  return {
    nodes: nodes.map((n) => ({
      id: n.id,
      type: n.data.type,
      position: { x: Math.round(n.position.x), y: Math.round(n.position.y) },
      ...(n.data.name ? { name: n.data.name } : {}),
      config: n.data.config,
    })),
    edges: edges.map((e) => ({
      from: e.source,
      to: e.target,
      ...(e.data?.when === undefined ? {} : { when: e.data.when }),
    })),
  };
}

/** The `when` a new edge out of `source` starts with: the handle for `if`, a fresh case for `switch`. */
export function initialWhen(
  sourceType: NodeType | undefined,
  sourceHandle: string | null | undefined,
  existingWhens: (boolean | string | undefined)[],
): boolean | string | undefined {
  if (sourceType === 'if') return sourceHandle !== 'false';
  if (sourceType === 'switch') {
    let n = 1;
    while (existingWhens.includes(`case_${n}`)) n++;
    return `case_${n}`;
  }
  return undefined;
}
