/**
 * The flow document of docs/api.md §3.2 and the canvas's picture of it: conversion between the
 * API's nodes/edges and React Flow's (a container's body, `config.nodes` / `config.edges`, drawn
 * inside it as a sub-flow), and the next free id for a type (`set_1`, `set_2`, …).
 */
import type { Edge, Node } from '@xyflow/react';
import { ERROR_HANDLE, type NodeCatalog, sourceHandleOf, TIMEOUT_HANDLE } from './catalog.ts';

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
  /** A flow of the tenant started when a run of this one fails; null or absent: none. */
  error_flow_id?: string | null;
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
  /** The version serving traffic (docs/api.md §3.11). */
  version?: number;
  /** The current draft's revision, null: no draft (§3.12). */
  draft_revision?: number | null;
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
/** A step, or a container (a React Flow group) whose body steps are nodes with its id as `parentId`. */
export type CanvasNode = Node<NodeData, 'step' | 'container'>;
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

/** A step's size on the canvas at zoom 1 (canvas.css .step is 180 px wide; about 60 px tall). */
export const STEP_SIZE = { width: 180, height: 60 };

/**
 * A container's frame: a header above its body, padding around it, and the least size it is drawn
 * at. Body positions are relative to the container's top-left corner, header included.
 */
export const CONTAINER_FRAME = { header: 52, pad: 24, minWidth: 380, minHeight: 200 };

/** Where a body step goes when it has no position, or is the first one added. */
export function firstBodyPosition(index = 0): { x: number; y: number } {
  return { x: CONTAINER_FRAME.pad + index * 240, y: CONTAINER_FRAME.header + CONTAINER_FRAME.pad };
}

/** A container's config as the panel edits it, and its body (`config.nodes`, `config.edges`). */
export function splitContainerConfig(config: Config): { own: Config; nodes: DocNode[]; edges: DocEdge[] } {
  const { nodes, edges, ...own } = config ?? {};
  return {
    own,
    nodes: Array.isArray(nodes) ? (nodes as DocNode[]) : [],
    edges: Array.isArray(edges) ? (edges as DocEdge[]) : [],
  };
}

/** Every node of the document, body steps (at any depth) included, by id. */
export function allDocNodes(nodes: DocNode[], catalog: NodeCatalog): Map<string, DocNode> {
  const out = new Map<string, DocNode>();
  const walk = (list: DocNode[]) => {
    for (const n of list) {
      out.set(n.id, n);
      if (catalog.byType.get(n.type)?.container) walk(splitContainerConfig(n.config).nodes);
    }
  };
  walk(nodes);
  return out;
}

/** A node's size on the canvas: as set (a container), as measured, or a step's. */
export function sizeOf(n: CanvasNode): { width: number; height: number } {
  return {
    width: n.width ?? n.measured?.width ?? STEP_SIZE.width,
    height: n.height ?? n.measured?.height ?? STEP_SIZE.height,
  };
}

/** Where a node is on the canvas: its own position plus those of the containers it is in. */
export function absolutePosition(nodes: CanvasNode[], node: CanvasNode): { x: number; y: number } {
  let { x, y } = node.position;
  for (let p = node.parentId; p; ) {
    const parent = nodes.find((n) => n.id === p);
    if (!parent) break;
    x += parent.position.x;
    y += parent.position.y;
    p = parent.parentId;
  }
  return { x, y };
}

/**
 * Every container at least as large as its body needs (never smaller than it is: the user may have
 * made it larger). Inner containers first, so an outer one fits their new size.
 */
export function fitContainers(nodes: CanvasNode[]): CanvasNode[] {
  const out = [...nodes];
  // A container comes before its body steps, so from the end inner containers are met first.
  for (let i = out.length - 1; i >= 0; i--) {
    const c = out[i];
    if (c.type !== 'container') continue;
    let width = CONTAINER_FRAME.minWidth;
    let height = CONTAINER_FRAME.minHeight;
    for (const child of out)
      if (child.parentId === c.id) {
        const size = sizeOf(child);
        width = Math.max(width, child.position.x + size.width + CONTAINER_FRAME.pad);
        height = Math.max(height, child.position.y + size.height + CONTAINER_FRAME.pad);
      }
    width = Math.max(width, c.width ?? 0);
    height = Math.max(height, c.height ?? 0);
    if (width !== c.width || height !== c.height) out[i] = { ...c, width, height };
  }
  return out;
}

/**
 * The document onto the canvas. A container (a catalog entry with `container: true`) becomes a
 * React Flow group: its body steps follow it as nodes with `parentId` (positions relative to it,
 * kept inside it, growing it when dragged to its edge) and its body edges join the others; its
 * config keeps the rest.
 */
export function toCanvas(
  doc: Pick<FlowDoc, 'nodes' | 'edges'>,
  catalog: NodeCatalog,
): {
  nodes: CanvasNode[];
  edges: CanvasEdge[];
} {
  const nodes: CanvasNode[] = [];
  const edges: CanvasEdge[] = [];
  const place = (docNodes: DocNode[], docEdges: DocEdge[], parentId?: string) => {
    docNodes.forEach((n, i) => {
      const container = !!catalog.byType.get(n.type)?.container;
      const body = container ? splitContainerConfig(n.config) : undefined;
      nodes.push({
        id: n.id,
        type: container ? 'container' : 'step',
        position: n.position ?? (parentId ? firstBodyPosition(i) : { x: 80 + i * 240, y: 120 }),
        ...(parentId ? { parentId, extent: 'parent' as const, expandParent: true } : {}),
        data: {
          type: n.type,
          config: body ? body.own : (n.config ?? {}),
          ...(n.retry ? { retry: n.retry } : {}),
          ...(n.on_error ? { on_error: n.on_error } : {}),
          name: n.name,
          url: n.url,
          problems: [],
        },
      });
      if (body) place(body.nodes, body.edges, n.id);
    });
    const byId = new Map(docNodes.map((n) => [n.id, n]));
    for (const e of docEdges) {
      const from = byId.get(e.from);
      const sourceHandle = sourceHandleOf(catalog.byType.get(from?.type ?? ''), e.when, from?.on_error);
      edges.push({
        id: edgeId(e),
        source: e.from,
        target: e.to,
        sourceHandle,
        label: edgeLabel(e.when),
        ...edgeLook(sourceHandle),
        data: e.when === undefined ? {} : { when: e.when },
      });
    }
  };
  place(doc.nodes, doc.edges);
  return { nodes: fitContainers(nodes), edges };
}

/** How an edge is drawn by the handle it leaves from: an error edge in red. */
export function edgeLook(sourceHandle: string | null | undefined): { className?: string } {
  if (sourceHandle === ERROR_HANDLE) return { className: 'edge-error' };
  return sourceHandle === TIMEOUT_HANDLE ? { className: 'edge-timeout' } : {};
}

/**
 * The document the API takes back (PUT): positions rounded, view-only fields left out, each
 * container's body steps and the edges between them back in its `config.nodes` / `config.edges`.
 */
export function fromCanvas(nodes: CanvasNode[], edges: CanvasEdge[]): { nodes: DocNode[]; edges: DocEdge[] } {
  const parentOf = new Map(nodes.map((n) => [n.id, n.parentId]));
  // An edge belongs where its source is (edges never cross a container's frame).
  const edgesIn = (parentId: string | undefined): DocEdge[] =>
    edges
      .filter((e) => parentOf.get(e.source) === parentId)
      .map((e) => ({
        from: e.source,
        to: e.target,
        ...(e.data?.when === undefined ? {} : { when: e.data.when }),
      }));
  const nodesIn = (parentId: string | undefined): DocNode[] =>
    nodes
      .filter((n) => n.parentId === parentId)
      .map((n) => ({
        id: n.id,
        type: n.data.type,
        position: { x: Math.round(n.position.x), y: Math.round(n.position.y) },
        ...(n.data.name ? { name: n.data.name } : {}),
        config:
          n.type === 'container'
            ? { ...n.data.config, nodes: nodesIn(n.id), edges: edgesIn(n.id) }
            : n.data.config,
        ...(n.data.retry ? { retry: n.data.retry } : {}),
        ...(n.data.on_error ? { on_error: n.data.on_error } : {}),
      }));
  return { nodes: nodesIn(undefined), edges: edgesIn(undefined) };
}
