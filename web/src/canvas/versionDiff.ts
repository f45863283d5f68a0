/**
 * What changed between two documents of a flow (two versions, or the live version and the draft):
 * pure, so the compare screen only draws it. Nodes are matched by id: added, removed, changed (the
 * fields that differ, with the old and the new value) or unchanged; a node only dragged elsewhere
 * counts as unchanged (`moved` says so). A container's body (`config.nodes` / `config.edges`, a
 * loop's) is compared the same way, and what changed inside it is a change of the container, its
 * path naming the body step (`nodes[set_2].config.values["vars.x"]`). Edges are matched by their
 * ends and `when`; the name, `enabled` and the settings are compared field by field.
 */

/** The parts of a flow document that are compared (a version, a draft, the live flow). */
export type DiffableDoc = {
  name?: string;
  enabled?: boolean;
  nodes: DiffNode[];
  edges: DiffEdge[];
  settings?: Record<string, unknown> | null;
};
export type DiffNode = {
  id: string;
  type: string;
  position?: { x: number; y: number };
  name?: string;
  config?: Record<string, unknown>;
  [field: string]: unknown;
};
export type DiffEdge = { from: string; to: string; when?: boolean | string };

/** One field that differs; `before` absent: added, `after` absent: removed. */
export type FieldChange = {
  path: string;
  kind: 'added' | 'removed' | 'changed';
  before?: unknown;
  after?: unknown;
};

export type NodeDiff = {
  id: string;
  type: string;
  status: 'added' | 'removed' | 'changed' | 'unchanged';
  /** The node in the older document (absent when added). */
  before?: DiffNode;
  /** The node in the newer document (absent when removed). */
  after?: DiffNode;
  changes: FieldChange[];
  /** Its position differs (nothing else counts as a change for that). */
  moved: boolean;
};

export type EdgeDiff = { key: string; from: string; to: string; when?: boolean | string };

export type FlowDiff = {
  name: FieldChange | null;
  enabled: FieldChange | null;
  settings: FieldChange[];
  /** In the newer document's order, removed nodes after them (in the older one's). */
  nodes: NodeDiff[];
  edges: { added: EdgeDiff[]; removed: EdgeDiff[]; unchanged: number };
  /** Nothing but positions differs. */
  same: boolean;
};

/** Fields of a node not compared as fields: its id, where it is drawn, what the API adds. */
const NODE_VIEW_FIELDS = new Set(['id', 'position', 'url', 'next_runs']);

export function diffFlows(older: DiffableDoc, newer: DiffableDoc): FlowDiff {
  const name =
    older.name !== undefined && newer.name !== undefined && older.name !== newer.name
      ? { path: 'name', kind: 'changed' as const, before: older.name, after: newer.name }
      : null;
  const enabled =
    older.enabled !== undefined && newer.enabled !== undefined && older.enabled !== newer.enabled
      ? { path: 'enabled', kind: 'changed' as const, before: older.enabled, after: newer.enabled }
      : null;
  const settings = diffValues(older.settings ?? {}, newer.settings ?? {}, ['settings']);
  const nodes = diffNodes(older.nodes ?? [], newer.nodes ?? []);
  const edges = diffEdges(older.edges ?? [], newer.edges ?? []);
  const same =
    !name &&
    !enabled &&
    settings.length === 0 &&
    nodes.every((n) => n.status === 'unchanged') &&
    edges.added.length === 0 &&
    edges.removed.length === 0;
  return { name, enabled, settings, nodes, edges, same };
}

function diffNodes(older: DiffNode[], newer: DiffNode[]): NodeDiff[] {
  const before = new Map(older.map((n) => [n.id, n]));
  const after = new Set(newer.map((n) => n.id));
  const out: NodeDiff[] = [];
  for (const n of newer) {
    const o = before.get(n.id);
    if (!o) {
      out.push({ id: n.id, type: n.type, status: 'added', after: n, changes: [], moved: false });
      continue;
    }
    const changes = nodeChanges(o, n);
    out.push({
      id: n.id,
      type: n.type,
      status: changes.length ? 'changed' : 'unchanged',
      before: o,
      after: n,
      changes,
      moved: !samePosition(o.position, n.position),
    });
  }
  for (const o of older)
    if (!after.has(o.id))
      out.push({ id: o.id, type: o.type, status: 'removed', before: o, changes: [], moved: false });
  return out;
}

/** The fields of one node that differ; a container's body is compared node by node. */
function nodeChanges(older: DiffNode, newer: DiffNode, prefix: string[] = []): FieldChange[] {
  const out: FieldChange[] = [];
  const keys = new Set([...Object.keys(older), ...Object.keys(newer)]);
  for (const key of keys) {
    if (NODE_VIEW_FIELDS.has(key)) continue;
    if (key === 'config') {
      const a = asObject(older.config);
      const b = asObject(newer.config);
      if (isBody(a) || isBody(b)) {
        const { nodes: an, edges: ae, ...aOwn } = a;
        const { nodes: bn, edges: be, ...bOwn } = b;
        out.push(...diffValues(aOwn, bOwn, [...prefix, 'config']));
        out.push(...bodyChanges(asArray(an), asArray(bn), asArray(ae), asArray(be), prefix));
      } else out.push(...diffValues(a, b, [...prefix, 'config']));
      continue;
    }
    out.push(...diffValues(older[key], newer[key], [...prefix, key]));
  }
  return out;
}

/** A container's body: its steps (added, removed, their fields) and its edges. */
function bodyChanges(
  olderNodes: DiffNode[],
  newerNodes: DiffNode[],
  olderEdges: DiffEdge[],
  newerEdges: DiffEdge[],
  prefix: string[],
): FieldChange[] {
  const out: FieldChange[] = [];
  for (const n of diffNodes(olderNodes, newerNodes)) {
    const at = [...prefix, `nodes[${n.id}]`];
    if (n.status === 'added') out.push({ path: at.join('.'), kind: 'added', after: bodyStep(n.after) });
    else if (n.status === 'removed')
      out.push({ path: at.join('.'), kind: 'removed', before: bodyStep(n.before) });
    else if (n.before && n.after) out.push(...nodeChanges(n.before, n.after, at));
  }
  const edges = diffEdges(olderEdges, newerEdges);
  for (const e of edges.added)
    out.push({ path: [...prefix, `edges[${e.key}]`].join('.'), kind: 'added', after: e.key });
  for (const e of edges.removed)
    out.push({ path: [...prefix, `edges[${e.key}]`].join('.'), kind: 'removed', before: e.key });
  return out;
}

/** A body step as shown when it was added or removed: what it is, without where it was drawn. */
function bodyStep(n: DiffNode | undefined): unknown {
  if (!n) return undefined;
  const { position: _p, url: _u, ...rest } = n;
  return rest;
}

function diffEdges(older: DiffEdge[], newer: DiffEdge[]): FlowDiff['edges'] {
  const describe = (e: DiffEdge): EdgeDiff => ({ key: edgeKey(e), from: e.from, to: e.to, when: e.when });
  const a = new Map(older.map((e) => [edgeKey(e), e]));
  const b = new Map(newer.map((e) => [edgeKey(e), e]));
  return {
    added: [...b].filter(([k]) => !a.has(k)).map(([, e]) => describe(e)),
    removed: [...a].filter(([k]) => !b.has(k)).map(([, e]) => describe(e)),
    unchanged: [...b.keys()].filter((k) => a.has(k)).length,
  };
}

/** `from → to`, with its `when` (an If node's two edges to one node differ by it). */
export function edgeKey(e: DiffEdge): string {
  return `${e.from} → ${e.to}${e.when === undefined ? '' : ` (${String(e.when)})`}`;
}

/**
 * Where two values differ: into plain objects key by key, anything else (text, numbers, lists)
 * compared whole.
 */
export function diffValues(before: unknown, after: unknown, path: string[]): FieldChange[] {
  if (isPlainObject(before) && isPlainObject(after)) {
    const out: FieldChange[] = [];
    for (const key of new Set([...Object.keys(before), ...Object.keys(after)]))
      out.push(...diffValues(before[key], after[key], [...path, key]));
    return out;
  }
  if (sameValue(before, after)) return [];
  const at = formatPath(path);
  if (before === undefined) return [{ path: at, kind: 'added', after }];
  if (after === undefined) return [{ path: at, kind: 'removed', before }];
  return [{ path: at, kind: 'changed', before, after }];
}

/** `config.values["vars.x"]`: names joined with dots, one that is not a plain name quoted. */
export function formatPath(path: string[]): string {
  return path.reduce(
    (s, p, i) =>
      /^[A-Za-z_$][\w$]*$/.test(p) || /^(nodes|edges)\[.*\]$/.test(p)
        ? i === 0
          ? p
          : `${s}.${p}`
        : `${s}[${JSON.stringify(p)}]`,
    '',
  );
}

/** Equal as JSON, object keys in any order. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => sameValue(a[k], b[k]));
  }
  return false;
}

function samePosition(a?: { x: number; y: number }, b?: { x: number; y: number }): boolean {
  return (a?.x ?? null) === (b?.x ?? null) && (a?.y ?? null) === (b?.y ?? null);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
const asObject = (v: unknown): Record<string, unknown> => (isPlainObject(v) ? v : {});
const asArray = <T>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : []);
/** A container's config: it has a body (`nodes`, and edges between them). */
const isBody = (config: Record<string, unknown>) => Array.isArray(config.nodes);
