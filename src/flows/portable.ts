/**
 * Portable flow documents (docs/api.md §3.12): a flow exported with its credentials, outbound
 * endpoints and flows named instead of identified, so it can be imported into another tenant (or
 * installation) where the same names stand for other ids.
 *
 * A reference is the object `{"$ref": "credential"|"endpoint"|"flow", "name": "..."}` in place of
 * the id string, at the same key. Where references live comes from the node registry: the catalog
 * fields of kind credential, endpoint and flow (also inside `alternatives`), the definitions'
 * `credentialRefs`/`flowRefs`, the nodes of a body (loop) at any depth, and `settings.error_flow_id`.
 */
import { HttpError } from '../api/errors.ts';
import type { FlowNode } from '../core/flowDocument.ts';
import { findCredentialsByName, getCredentialSummary } from '../credentials/store.ts';
import type { Database } from '../db/connect.ts';
import { findEndpointIdsByName, getEndpoint } from '../delivery/endpoints/store.ts';
import { getNodeDefinition } from '../nodes/index.ts';
import type { FieldSpec } from '../nodes/types.ts';
import { type FlowRow, findFlowIdsByName, getFlow } from './store.ts';

export const PORTABLE_FORMAT = 'flow/v1';

export type RefKind = 'credential' | 'endpoint' | 'flow';
const KINDS: readonly RefKind[] = ['credential', 'endpoint', 'flow'];

/** A reference in a portable document; `name: null` (with the old `id`): it pointed at nothing. */
export type PortableRef = { $ref: RefKind; name: string | null; id?: string };

export type PortableFlow = {
  hookflow: typeof PORTABLE_FORMAT;
  name: string;
  enabled: boolean;
  nodes: unknown[];
  edges: unknown[];
  settings: Record<string, unknown>;
};

export type Unresolved = {
  kind: RefKind;
  name: string | null;
  node: string | null;
  field: string;
  reason: 'not_found' | 'ambiguous' | 'missing_at_export';
};

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);

function isRef(v: unknown): v is PortableRef {
  return (
    isObj(v) &&
    typeof v.$ref === 'string' &&
    (KINDS as readonly string[]).includes(v.$ref) &&
    (typeof v.name === 'string' || v.name === null)
  );
}

/** The (dotted) config paths of a node's references, by kind, from the registry. */
function refPaths(node: FlowNode): { path: string; kind: RefKind }[] {
  const def = getNodeDefinition(node.type);
  if (!def) return [];
  const out = new Map<string, RefKind>();
  const fromField = (f: FieldSpec) => {
    if (f.kind === 'credential' || f.kind === 'endpoint' || f.kind === 'flow') out.set(f.key, f.kind);
    for (const alt of f.alternatives ?? []) fromField(alt.field);
  };
  for (const f of def.catalog.fields) fromField(f);
  try {
    for (const r of def.credentialRefs?.(node.config) ?? []) out.set(r.field, 'credential');
    for (const r of def.flowRefs?.(node.config) ?? []) out.set(r.field, 'flow');
  } catch {
    // A config the definition cannot read has no references it could name.
  }
  return [...out].map(([path, kind]) => ({ path, kind }));
}

function getPath(obj: Obj, path: string): { parent: Obj; key: string } | undefined {
  const parts = path.split('.');
  let cur: unknown = obj;
  for (const p of parts.slice(0, -1)) {
    if (!isObj(cur)) return undefined;
    cur = cur[p];
  }
  return isObj(cur) ? { parent: cur, key: parts[parts.length - 1] } : undefined;
}

/** Every node, the nodes of bodies included (depth first), of a JSON copy of the document. */
function eachNode(nodes: unknown, visit: (node: FlowNode) => void): void {
  if (!Array.isArray(nodes)) return;
  for (const n of nodes) {
    if (!isObj(n) || typeof n.type !== 'string' || !isObj(n.config)) continue;
    visit(n as FlowNode);
    let body: { nodes: unknown[] } | undefined;
    try {
      body = getNodeDefinition(n.type)?.body?.(n.config);
    } catch {
      body = undefined;
    }
    if (body) eachNode(body.nodes, visit);
  }
}

async function nameOf(database: Database, tenantId: string, kind: RefKind, id: string) {
  if (kind === 'credential') return (await getCredentialSummary(database, tenantId, id))?.name;
  if (kind === 'endpoint') return (await getEndpoint(database, tenantId, id))?.name;
  return (await getFlow(database, tenantId, id))?.name;
}

/** The portable document of a flow of the tenant (ids that point at nothing: `name: null`). */
export async function exportFlow(database: Database, row: FlowRow): Promise<PortableFlow> {
  const doc = structuredClone({
    nodes: row.nodes as unknown[],
    edges: row.edges as unknown[],
    settings: (row.settings ?? {}) as Obj,
  });
  const cache = new Map<string, string | null>();
  const toRef = async (kind: RefKind, id: string): Promise<PortableRef> => {
    const k = `${kind}:${id}`;
    if (!cache.has(k)) cache.set(k, (await nameOf(database, row.tenant_id, kind, id)) ?? null);
    const name = cache.get(k) ?? null;
    return name === null ? { $ref: kind, name: null, id } : { $ref: kind, name };
  };
  const sites: { parent: Obj; key: string; kind: RefKind; id: string }[] = [];
  eachNode(doc.nodes, (node) => {
    for (const { path, kind } of refPaths(node)) {
      const at = getPath(node.config, path);
      const id = at?.parent[at.key];
      if (at && typeof id === 'string' && id) sites.push({ ...at, kind, id });
    }
  });
  const errorFlow = doc.settings.error_flow_id;
  if (typeof errorFlow === 'string' && errorFlow)
    sites.push({ parent: doc.settings, key: 'error_flow_id', kind: 'flow', id: errorFlow });
  for (const s of sites) s.parent[s.key] = await toRef(s.kind, s.id);
  return {
    hookflow: PORTABLE_FORMAT,
    name: row.name,
    enabled: row.enabled,
    nodes: doc.nodes,
    edges: doc.edges,
    settings: doc.settings,
  };
}

/**
 * Resolves a portable document's references in the tenant, into a flow document for the ordinary
 * validation. `self`: the flow an import updates (a flow reference by the document's own name is it).
 * Throws 400 `invalid_document` (not a portable document) or `unresolved_references` (all of them).
 */
export async function resolvePortable(
  database: Database,
  tenantId: string,
  input: unknown,
  self?: string,
): Promise<Obj> {
  if (!isObj(input) || input.hookflow !== PORTABLE_FORMAT)
    throw new HttpError(
      400,
      'invalid_document',
      `Not a portable flow document: send the JSON of GET /api/v1/flows/:id/export ({"hookflow": "${PORTABLE_FORMAT}", "name", "nodes", ...})`,
    );
  const { hookflow: _format, ...rest } = structuredClone(input);
  const docName = typeof rest.name === 'string' ? rest.name : undefined;
  const sites: {
    parent: Obj | unknown[];
    key: string | number;
    ref: PortableRef;
    node: string | null;
    field: string;
  }[] = [];
  // Any reference object anywhere in a node's config (not only where the registry names one: an
  // import never leaves a `$ref` for the validation to misread); body nodes report as themselves.
  const scan = (value: unknown, field: string, node: string | null, skip: Set<unknown>) => {
    if (Array.isArray(value)) {
      if (skip.has(value)) return;
      value.forEach((v, i) => {
        if (isRef(v)) sites.push({ parent: value, key: i, ref: v, node, field: `${field}[${i}]` });
        else scan(v, `${field}[${i}]`, node, skip);
      });
    } else if (isObj(value)) {
      for (const [k, v] of Object.entries(value)) {
        if (isRef(v)) sites.push({ parent: value, key: k, ref: v, node, field: `${field}.${k}` });
        else scan(v, `${field}.${k}`, node, skip);
      }
    }
  };
  eachNode(rest.nodes, (n) => {
    let bodyNodes: unknown;
    try {
      bodyNodes = getNodeDefinition(n.type)?.body?.(n.config)?.nodes;
    } catch {
      bodyNodes = undefined;
    }
    scan(n.config, 'config', typeof n.id === 'string' ? n.id : null, new Set([bodyNodes]));
  });
  if (isObj(rest.settings)) scan(rest.settings, 'settings', null, new Set());

  const unresolved: Unresolved[] = [];
  const found = new Map<string, string[]>();
  for (const s of sites) {
    const { $ref: kind, name } = s.ref;
    const miss = (reason: Unresolved['reason']) =>
      unresolved.push({ kind, name, node: s.node, field: s.field, reason });
    if (name === null) {
      miss('missing_at_export');
      continue;
    }
    let ids: string[];
    if (kind === 'flow' && self && name === docName) ids = [self];
    else {
      const k = `${kind}:${name}`;
      if (!found.has(k))
        found.set(
          k,
          kind === 'credential'
            ? (await findCredentialsByName(database, tenantId, name)).map((c) => c.id)
            : kind === 'endpoint'
              ? await findEndpointIdsByName(database, tenantId, name)
              : await findFlowIdsByName(database, tenantId, name),
        );
      ids = found.get(k)!;
    }
    if (ids.length === 1) (s.parent as Obj)[s.key as string] = ids[0];
    else miss(ids.length ? 'ambiguous' : 'not_found');
  }
  if (unresolved.length) {
    const first = unresolved[0];
    const what =
      first.reason === 'ambiguous'
        ? `more than one ${first.kind} is named "${first.name}"`
        : first.reason === 'missing_at_export'
          ? `the exported flow referred to a ${first.kind} that did not exist`
          : `no ${first.kind} is named "${first.name}"`;
    throw new HttpError(
      400,
      'unresolved_references',
      `${unresolved.length} reference${unresolved.length === 1 ? '' : 's'} cannot be resolved in this tenant (${first.node ? `node ${first.node}, ` : ''}${first.field}: ${what}); create or rename them, then import again`,
      { unresolved },
    );
  }
  return rest;
}
