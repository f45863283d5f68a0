/** SQL for flows and their webhook samples. */
import { type Kysely, sql } from 'kysely';
import type { FlowDocument } from '../core/flowDocument.ts';
import { newId } from '../core/ids.ts';
import type { Database } from '../db/connect.ts';
import { notifyCache } from '../db/notify.ts';
import type { DB } from '../db/schema.ts';
import { syncSchedules } from './scheduleStore.ts';

export type FlowRow = {
  tenant_id: string;
  id: string;
  name: string;
  enabled: boolean;
  nodes: unknown[];
  edges: unknown[];
  settings: Record<string, unknown>;
  version: number;
  /** The current draft's revision (docs/api.md §3.12), null: none. */
  draft_revision: number | null;
  created_at: Date;
  updated_at: Date;
};

const FLOW_COLUMNS = [
  'tenant_id',
  'id',
  'name',
  'enabled',
  'nodes',
  'edges',
  'settings',
  'version',
  'draft_revision',
  'created_at',
  'updated_at',
] as const;

/** Who saved a version, and why (docs/api.md §3.11): the API key, and a note (a restore says so). */
export type SavedBy = { keyId?: string; note?: string };

/** Keeps the flow as this save left it as its version `row.version` (same transaction as the save). */
async function recordVersion(tx: Kysely<DB>, row: FlowRow, by: SavedBy): Promise<void> {
  await tx
    .insertInto('flow_versions')
    .values({
      tenant_id: row.tenant_id,
      flow_id: row.id,
      version: row.version,
      name: row.name,
      enabled: row.enabled,
      nodes: JSON.stringify(row.nodes),
      edges: JSON.stringify(row.edges),
      settings: JSON.stringify(row.settings),
      created_by: by.keyId ?? null,
      note: by.note ?? null,
    })
    .execute();
}

/** `at`: the clock of the save, from which a schedule node starts counting ticks (docs/api.md §4.8). */
export async function insertFlow(
  database: Database,
  tenantId: string,
  doc: FlowDocument,
  at: Date = new Date(),
  by: SavedBy = {},
): Promise<FlowRow> {
  const id = newId('flw');
  return database.db.transaction().execute(async (tx) => {
    const row = await tx
      .insertInto('flows')
      .values({
        tenant_id: tenantId,
        id,
        name: doc.name,
        enabled: doc.enabled,
        nodes: JSON.stringify(doc.nodes),
        edges: JSON.stringify(doc.edges),
        settings: JSON.stringify(doc.settings),
      })
      .returning(FLOW_COLUMNS)
      .executeTakeFirstOrThrow();
    await recordVersion(tx, row as FlowRow, by);
    await syncSchedules(tx, tenantId, id, doc, at);
    await notifyCache(tx, `flow:${tenantId}:${id}`);
    return row as FlowRow;
  });
}

export async function getFlow(
  database: Database,
  tenantId: string,
  id: string,
): Promise<FlowRow | undefined> {
  return (await database.db
    .selectFrom('flows')
    .select(FLOW_COLUMNS)
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst()) as FlowRow | undefined;
}

/**
 * Replaces a flow's document (its next version). `publishing`: the draft revision this save
 * publishes — the draft is dropped with it, unless it was saved again meanwhile.
 */
export async function replaceFlow(
  database: Database,
  tenantId: string,
  id: string,
  doc: FlowDocument,
  at: Date = new Date(),
  by: SavedBy = {},
  publishing?: number,
): Promise<FlowRow | undefined> {
  return database.db.transaction().execute(async (tx) => {
    const row = await tx
      .updateTable('flows')
      .set({
        name: doc.name,
        enabled: doc.enabled,
        nodes: JSON.stringify(doc.nodes),
        edges: JSON.stringify(doc.edges),
        settings: JSON.stringify(doc.settings),
        version: sql`version + 1` as any,
        updated_at: sql`now()` as any,
        ...(publishing === undefined
          ? {}
          : {
              draft_revision:
                sql`case when draft_revision = ${publishing} then null else draft_revision end` as any,
            }),
      })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .returning(FLOW_COLUMNS)
      .executeTakeFirst();
    if (row) {
      await recordVersion(tx, row as FlowRow, by);
      // Samples of webhook nodes that no longer exist go with them.
      const webhookIds = doc.nodes.filter((n) => n.type === 'webhook').map((n) => n.id);
      let del = tx.deleteFrom('samples').where('tenant_id', '=', tenantId).where('flow_id', '=', id);
      if (webhookIds.length) del = del.where('node_id', 'not in', webhookIds);
      await del.execute();
      await syncSchedules(tx, tenantId, id, doc, at);
      await notifyCache(tx, `flow:${tenantId}:${id}`);
    }
    return row as FlowRow | undefined;
  });
}

export async function deleteFlow(database: Database, tenantId: string, id: string): Promise<boolean> {
  return database.db.transaction().execute(async (tx) => {
    const r = await tx
      .deleteFrom('flows')
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .executeTakeFirst();
    await notifyCache(tx, `flow:${tenantId}:${id}`);
    return Number(r.numDeletedRows) > 0;
  });
}

/**
 * Lists a tenant's flows, newest first. `search` matches the name (case-insensitive substring) or
 * the id — including an id pasted as part of a hook URL.
 */
export async function listFlows(
  database: Database,
  tenantId: string,
  opts: { search?: string; limit: number; cursor?: string },
): Promise<FlowRow[]> {
  let q = database.db.selectFrom('flows').select(FLOW_COLUMNS).where('tenant_id', '=', tenantId);
  const search = opts.search?.trim();
  if (search) {
    const idInUrl = /\/hooks\/[^/]+\/([^/?#\s]+)/.exec(search)?.[1];
    const like = `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    q = q.where((eb) =>
      eb.or([
        eb('name', 'ilike', like),
        eb('id', 'ilike', like),
        ...(idInUrl ? [eb('id', '=', decodeURIComponent(idInUrl))] : []),
      ]),
    );
  }
  if (opts.cursor) q = q.where('id', '<', opts.cursor);
  return (await q.orderBy('id', 'desc').limit(opts.limit).execute()) as FlowRow[];
}

export async function setFlowEnabled(
  database: Database,
  tenantId: string,
  id: string,
  enabled: boolean,
  at: Date = new Date(),
  by: SavedBy = {},
): Promise<FlowRow | undefined> {
  return database.db.transaction().execute(async (tx) => {
    const row = await tx
      .updateTable('flows')
      .set({ enabled, version: sql`version + 1` as any, updated_at: sql`now()` as any })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .returning(FLOW_COLUMNS)
      .executeTakeFirst();
    if (row) {
      await recordVersion(tx, row as FlowRow, by);
      await syncSchedules(tx, tenantId, id, { enabled, nodes: row.nodes as FlowDocument['nodes'] }, at);
      await notifyCache(tx, `flow:${tenantId}:${id}`);
    }
    return row as FlowRow | undefined;
  });
}

export async function openListenWindow(
  database: Database,
  tenantId: string,
  flowId: string,
  nodeId: string,
  seconds: number,
): Promise<Date> {
  return database.db.transaction().execute(async (tx) => {
    const row = await tx
      .insertInto('samples')
      .values({
        tenant_id: tenantId,
        flow_id: flowId,
        node_id: nodeId,
        listening_until: sql`now() + make_interval(secs => ${seconds})` as any,
      })
      .onConflict((oc) =>
        oc
          .columns(['tenant_id', 'flow_id', 'node_id'])
          .doUpdateSet({ listening_until: sql`excluded.listening_until` as any }),
      )
      .returning('listening_until')
      .executeTakeFirstOrThrow();
    await notifyCache(tx, `flow:${tenantId}:${flowId}`);
    return row.listening_until!;
  });
}

/**
 * Stores a captured request if the window is still open. Only one request wins a window: the
 * update is conditional, so concurrent requests cannot both capture.
 */
export async function captureSample(
  database: Database,
  tenantId: string,
  flowId: string,
  nodeId: string,
  request: Record<string, unknown>,
): Promise<boolean> {
  return database.db.transaction().execute(async (tx) => {
    const r = await tx
      .updateTable('samples')
      .set({ listening_until: null, request: JSON.stringify(request), captured_at: sql`now()` as any })
      .where('tenant_id', '=', tenantId)
      .where('flow_id', '=', flowId)
      .where('node_id', '=', nodeId)
      .where('listening_until', '>', sql<Date>`now()`)
      .executeTakeFirst();
    const won = Number(r.numUpdatedRows) > 0;
    if (won) await notifyCache(tx, `flow:${tenantId}:${flowId}`);
    return won;
  });
}

export async function saveSample(
  database: Database,
  tenantId: string,
  flowId: string,
  nodeId: string,
  request: Record<string, unknown>,
): Promise<void> {
  await database.db
    .insertInto('samples')
    .values({
      tenant_id: tenantId,
      flow_id: flowId,
      node_id: nodeId,
      request: JSON.stringify(request),
      captured_at: sql`now()` as any,
    })
    .onConflict((oc) =>
      oc.columns(['tenant_id', 'flow_id', 'node_id']).doUpdateSet({
        request: sql`excluded.request` as any,
        captured_at: sql`excluded.captured_at` as any,
      }),
    )
    .execute();
}

export async function getSample(database: Database, tenantId: string, flowId: string, nodeId: string) {
  return database.db
    .selectFrom('samples')
    .select(['listening_until', 'request', 'captured_at'])
    .where('tenant_id', '=', tenantId)
    .where('flow_id', '=', flowId)
    .where('node_id', '=', nodeId)
    .executeTakeFirst();
}

/** Open listen windows of a flow (for the ingest cache). */
export async function listeningNodes(database: Database, tenantId: string, flowId: string) {
  return database.db
    .selectFrom('samples')
    .select(['node_id', 'listening_until'])
    .where('tenant_id', '=', tenantId)
    .where('flow_id', '=', flowId)
    .where('listening_until', '>', sql<Date>`now()`)
    .execute();
}

export type FlowVersionRow = {
  version: number;
  name: string;
  enabled: boolean;
  nodes: unknown[];
  edges: unknown[];
  settings: Record<string, unknown>;
  created_at: Date;
  created_by: string | null;
  note: string | null;
};

/** A flow's versions, newest first (without their documents). */
export async function listFlowVersions(
  database: Database,
  tenantId: string,
  flowId: string,
  opts: { limit: number; before?: number },
) {
  let q = database.db
    .selectFrom('flow_versions')
    .select(['version', 'name', 'enabled', 'created_at', 'created_by', 'note'])
    .where('tenant_id', '=', tenantId)
    .where('flow_id', '=', flowId);
  if (opts.before !== undefined) q = q.where('version', '<', opts.before);
  return q.orderBy('version', 'desc').limit(opts.limit).execute();
}

/** One version of a flow, with its document. */
export async function getFlowVersion(
  database: Database,
  tenantId: string,
  flowId: string,
  version: number,
): Promise<FlowVersionRow | undefined> {
  return (await database.db
    .selectFrom('flow_versions')
    .select(['version', 'name', 'enabled', 'nodes', 'edges', 'settings', 'created_at', 'created_by', 'note'])
    .where('tenant_id', '=', tenantId)
    .where('flow_id', '=', flowId)
    .where('version', '=', version)
    .executeTakeFirst()) as FlowVersionRow | undefined;
}

/** The ids of the tenant's flows of that exact name (flow import, docs/api.md §3.12). */
export async function findFlowIdsByName(database: Database, tenantId: string, name: string) {
  const rows = await database.db
    .selectFrom('flows')
    .select(['id'])
    .where('tenant_id', '=', tenantId)
    .where('name', '=', name)
    .orderBy('id')
    .limit(10)
    .execute();
  return rows.map((r) => r.id);
}
