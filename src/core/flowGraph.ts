/**
 * Execution plans: the order in which a run visits a flow's nodes, from the trigger that started
 * it. Pure. Flows are validated acyclic on save, so a topological order exists; nodes unreachable
 * from the trigger (another trigger's branch) are not part of the plan.
 */
import { getNodeDefinition } from '../nodes/index.ts';
import type { FlowEdge, FlowNode } from './flowDocument.ts';

export type ExecutionPlan = {
  triggerId: string;
  /** Reachable nodes in a topological order, the trigger first; ties keep document order. */
  order: FlowNode[];
  incoming: Map<string, FlowEdge[]>;
};

/**
 * A graph a walk runs through: a plan's order and incoming edges, the outgoing edges (for switch
 * defaults and error edges), and the roots — the nodes that run without an incoming edge (the
 * trigger; in a loop's body, every body node without an incoming body edge).
 */
export type Graph = {
  order: FlowNode[];
  incoming: Map<string, FlowEdge[]>;
  outgoing: Map<string, FlowEdge[]>;
  roots: ReadonlySet<string>;
};

export function planFromTrigger(
  flow: { nodes: FlowNode[]; edges: FlowEdge[] },
  triggerId: string,
): ExecutionPlan {
  const { order, incoming } = planFrom(flow, [triggerId]);
  return { triggerId, order, incoming };
}

/** The plan of a loop's body (docs/api.md §4.3): every body node, its entry nodes the roots. */
export function planBody(body: { nodes: FlowNode[]; edges: FlowEdge[] }): Graph {
  const targets = new Set(body.edges.map((e) => e.to));
  const roots = body.nodes.map((n) => n.id).filter((id) => !targets.has(id));
  const { order, incoming, outgoing } = planFrom(body, roots);
  return { order, incoming, outgoing, roots: new Set(roots) };
}

function planFrom(flow: { nodes: FlowNode[]; edges: FlowEdge[] }, roots: string[]) {
  const byId = new Map(flow.nodes.map((n) => [n.id, n]));
  const outgoing = new Map<string, FlowEdge[]>();
  for (const e of flow.edges) {
    if (!byId.has(e.from) || !byId.has(e.to)) continue;
    outgoing.set(e.from, [...(outgoing.get(e.from) ?? []), e]);
  }
  // Reachable set from the roots.
  const reachable = new Set<string>(roots);
  const stack = [...roots];
  while (stack.length) {
    const id = stack.pop()!;
    for (const e of outgoing.get(id) ?? []) {
      if (!reachable.has(e.to)) {
        reachable.add(e.to);
        stack.push(e.to);
      }
    }
  }
  const incoming = new Map<string, FlowEdge[]>();
  const indegree = new Map<string, number>();
  for (const id of reachable) indegree.set(id, 0);
  for (const e of flow.edges) {
    if (!reachable.has(e.from) || !reachable.has(e.to)) continue;
    incoming.set(e.to, [...(incoming.get(e.to) ?? []), e]);
    indegree.set(e.to, (indegree.get(e.to) ?? 0) + 1);
  }
  const position = new Map(flow.nodes.map((n, i) => [n.id, i]));
  const ready = [...roots];
  const order: FlowNode[] = [];
  while (ready.length) {
    ready.sort((a, b) => position.get(a)! - position.get(b)!);
    const id = ready.shift()!;
    order.push(byId.get(id)!);
    for (const e of outgoing.get(id) ?? []) {
      if (!reachable.has(e.to)) continue;
      const left = indegree.get(e.to)! - 1;
      indegree.set(e.to, left);
      if (left === 0) ready.push(e.to);
    }
  }
  return { order, incoming, outgoing };
}

/**
 * Whether an edge carries control, given what its source node produced: every edge of an ordinary
 * node; for a type that says otherwise (`if`: the `when` matching its result, `switch`: the case
 * or `default`), what its definition in the node registry says.
 */
export function edgeTaken(
  edge: FlowEdge,
  source: { type: string; output?: unknown },
  siblings: readonly FlowEdge[],
): boolean {
  const taken = getNodeDefinition(source.type)?.edgeTaken;
  return taken ? taken(edge, source.output, siblings) : true;
}
