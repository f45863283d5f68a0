/**
 * SQL for drafts (docs/api.md §3.12): a draft is kept beside its flow without serving traffic; each
 * save of it is an immutable revision (a test run or a replay pins the one it runs), and
 * `flows.draft_revision` names the current one.
 */
import { sql } from 'kysely';
import type { FlowDocument } from '../core/flowDocument.ts';
import type { Database } from '../db/connect.ts';
import { notifyCache } from '../db/notify.ts';

export type DraftRow = {
  flow_id: string;
  revision: number;
  name: string;
  nodes: unknown[];
  edges: unknown[];
  settings: Record<string, unknown>;
  base_version: number;
  created_at: Date;
  created_by: string | null;
};

const DRAFT_COLUMNS = [
  'flow_id',
  'revision',
  'name',
  'nodes',
  'edges',
  'settings',
  'base_version',
  'created_at',
  'created_by',
] as const;

/** Saves the document as the flow's draft (its next revision); undefined when the flow is gone. */
export async function saveDraft(
  database: Database,
  tenantId: string,
  flowId: string,
  doc: Pick<FlowDocument, 'name' | 'nodes' | 'edges' | 'settings'>,
  keyId?: string,
): Promise<DraftRow | undefined> {
  return database.db.transaction().execute(async (tx) => {
    const flow = await tx
      .selectFrom('flows')
      .select(['version'])
      .where('tenant_id', '=', tenantId)
      .where('id', '=', flowId)
      .forUpdate()
      .executeTakeFirst();
    if (!flow) return undefined;
    const last = await tx
      .selectFrom('flow_drafts')
      .select(sql<number>`coalesce(max(revision), 0)`.as('n'))
      .where('tenant_id', '=', tenantId)
      .where('flow_id', '=', flowId)
      .executeTakeFirstOrThrow();
    const row = await tx
      .insertInto('flow_drafts')
      .values({
        tenant_id: tenantId,
        flow_id: flowId,
        revision: Number(last.n) + 1,
        name: doc.name,
        nodes: JSON.stringify(doc.nodes),
        edges: JSON.stringify(doc.edges),
        settings: JSON.stringify(doc.settings),
        base_version: flow.version,
        created_by: keyId ?? null,
      })
      .returning(DRAFT_COLUMNS)
      .executeTakeFirstOrThrow();
    await tx
      .updateTable('flows')
      .set({ draft_revision: row.revision })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', flowId)
      .execute();
    // The test URL serves the draft: the ingest caches drop the flow.
    await notifyCache(tx, `flow:${tenantId}:${flowId}`);
    return row as DraftRow;
  });
}

/** The flow's current draft, or undefined (no draft, or no such flow). */
export async function getDraft(
  database: Database,
  tenantId: string,
  flowId: string,
): Promise<DraftRow | undefined> {
  return (await database.db
    .selectFrom('flow_drafts as d')
    .innerJoin('flows as f', (j) =>
      j
        .onRef('f.tenant_id', '=', 'd.tenant_id')
        .onRef('f.id', '=', 'd.flow_id')
        .onRef('f.draft_revision', '=', 'd.revision'),
    )
    .select(DRAFT_COLUMNS.map((c) => `d.${c}` as const))
    .where('d.tenant_id', '=', tenantId)
    .where('d.flow_id', '=', flowId)
    .executeTakeFirst()) as DraftRow | undefined;
}

/** One revision of a flow's draft (current or not): what a test or replay run pinned. */
export async function getDraftRevision(
  database: Database,
  tenantId: string,
  flowId: string,
  revision: number,
): Promise<DraftRow | undefined> {
  return (await database.db
    .selectFrom('flow_drafts')
    .select(DRAFT_COLUMNS)
    .where('tenant_id', '=', tenantId)
    .where('flow_id', '=', flowId)
    .where('revision', '=', revision)
    .executeTakeFirst()) as DraftRow | undefined;
}

/** Drops the current draft (its revisions stay for the runs that ran them); false when there was none. */
export async function discardDraft(database: Database, tenantId: string, flowId: string): Promise<boolean> {
  return database.db.transaction().execute(async (tx) => {
    const r = await tx
      .updateTable('flows')
      .set({ draft_revision: null })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', flowId)
      .where('draft_revision', 'is not', null)
      .executeTakeFirst();
    const dropped = Number(r.numUpdatedRows) > 0;
    if (dropped) await notifyCache(tx, `flow:${tenantId}:${flowId}`);
    return dropped;
  });
}
