/**
 * The flow document of docs/api.md §3.2 and the canvas's picture of it: conversion between the
 * API's nodes/edges and React Flow's, and the next free id for a type (`set_1`, `set_2`, …).
 */
import type { Edge, Node } from '@xyflow/react';
import { ERROR_HANDLE, type NodeCatalog, sourceHandleOf } from './catalog.ts';

/** A node type's name; what it is comes from the node catalog (catalog.ts). */
export type NodeType = string;

export type Config = Record<string, unknown>;

/** A node's retries (docs/api.md §4.4); a key left out takes the API's default. */
export type Retry = { max_attempts?: number; backoff_ms?: number; factor?: number; max_backoff_ms?: number };
/** What a failure after the last attempt does; absent: `fail`. */
export type OnError = 'fail' | 'continue' | 'branch';

export type DocNode = {
  id: string;
  type: NodeType;
  position?: { x: number; y: number };
  name?: string;
  config: Config;
  /** Beside `config`, on every node but a trigger. */
  retry?: Retry;
  on_error?: OnError;
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
  retry?: Retry;
  on_error?: OnError;
  name?: string;
  url?: string;
  problems: FlowProblem[];
};
export type CanvasNode = Node<NodeData, 'step'>;
export type EdgeData = { when?: boolean | string };
export type CanvasEdge = Edge<EdgeData>;

/** `type_<n>` with n one more than the highest already used for that type. */
export function nextNodeId(type: NodeType, existing: Iterable<string>): string {
  let max = 0;
  const escaped = type.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`^${escaped}_(\\d+)$`);
  for (const id of existing) {
    const m = re.exec(id);
    if (m) max = Math.max(max, Number(m[1]));
  }
  return `${type}_${max + 1}`;
}

/** An edge's id: its ends, and its `when` (an If node's two edges to one node differ by it). */
export function edgeId(e: DocEdge): string {
  return `${e.from}->${e.to}${e.when === undefined ? '' : `:${String(e.when)}`}`;
}

export function edgeLabel(when: boolean | string | undefined): string | undefined {
  if (when === undefined) return undefined;
  return String(when);
}

export function toCanvas(
  doc: Pick<FlowDoc, 'nodes' | 'edges'>,
  catalog: NodeCatalog,
): {
  nodes: CanvasNode[];
  edges: CanvasEdge[];
} {
  const nodes: CanvasNode[] = doc.nodes.map((n, i) => ({
    id: n.id,
    type: 'step',
    position: n.position ?? { x: 80 + i * 240, y: 120 },
    data: {
      type: n.type,
      config: n.config ?? {},
      ...(n.retry ? { retry: n.retry } : {}),
      ...(n.on_error ? { on_error: n.on_error } : {}),
      name: n.name,
      url: n.url,
      problems: [],
    },
  }));
  const byId = new Map(doc.nodes.map((n) => [n.id, n]));
  const edges: CanvasEdge[] = doc.edges.map((e) => {
    const from = byId.get(e.from);
    const sourceHandle = sourceHandleOf(catalog.byType.get(from?.type ?? ''), e.when, from?.on_error);
    return {
      id: edgeId(e),
      source: e.from,
      target: e.to,
      sourceHandle,
      label: edgeLabel(e.when),
      ...edgeLook(sourceHandle),
      data: e.when === undefined ? {} : { when: e.when },
    };
  });
  return { nodes, edges };
}

/** How an edge is drawn by the handle it leaves from: an error edge in red. */
export function edgeLook(sourceHandle: string | null | undefined): { className?: string } {
  return sourceHandle === ERROR_HANDLE ? { className: 'edge-error' } : {};
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
      ...(n.data.retry ? { retry: n.data.retry } : {}),
      ...(n.data.on_error ? { on_error: n.data.on_error } : {}),
    })),
    edges: edges.map((e) => ({
      from: e.source,
      to: e.target,
      ...(e.data?.when === undefined ? {} : { when: e.data.when }),
    })),
  };
}
