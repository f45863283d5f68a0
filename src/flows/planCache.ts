/**
 * Flow definitions as run workers need them — settings and an execution plan per trigger node —
 * cached in process and dropped on the same notifications as the ingest cache.
 */
import type { FlowEdge, FlowNode, FlowSettings } from '../core/flowDocument.ts';
import { type ExecutionPlan, planFromTrigger } from '../core/flowGraph.ts';
import type { Database } from '../db/connect.ts';
import { NotifiedCache, subscribeToCacheNotifications } from '../db/notifiedCache.ts';
import { getDraftRevision } from './draftStore.ts';
import type { FlowForRun } from './engine.ts';
import { getFlow, getFlowVersion } from './store.ts';

type LoadedFlow = {
  id: string;
  name: string;
  version: number;
  draftRevision?: number;
  settings: FlowSettings;
  nodes: FlowNode[];
  edges: FlowEdge[];
  outgoing: Map<string, FlowEdge[]>;
  plans: Map<string, ExecutionPlan>;
};

export class FlowPlanCache {
  private readonly cache: NotifiedCache<LoadedFlow | null>;
  private unsubscribe?: () => Promise<void>;

  constructor(
    private readonly database: Database,
    ttlMs = 30_000,
    now: () => number = Date.now,
  ) {
    this.cache = new NotifiedCache(ttlMs, now);
  }

  async start(): Promise<void> {
    this.unsubscribe = await subscribeToCacheNotifications(
      this.database,
      (p) => this.cache.invalidate(p),
      () => this.cache.clear(),
    );
  }

  async stop(): Promise<void> {
    await this.unsubscribe?.();
    this.cache.clear();
  }

  /**
   * The flow with its plan from `triggerNodeId` — as it is now, or, with `version`, as that version
   * of it was saved (a run goes on with the version it started on, docs/api.md §3.11), or with
   * `draftRevision` as that revision of its draft (a test or replay run, §3.12); null when the flow,
   * that version or revision, or that trigger is gone.
   */
  async get(
    tenantId: string,
    flowId: string,
    triggerNodeId: string,
    version?: number | null,
    draftRevision?: number | null,
  ): Promise<FlowForRun | null> {
    const load = (row: {
      name: string;
      version: number;
      nodes: unknown;
      edges: unknown;
      settings: unknown;
    }) => {
      const nodes = row.nodes as FlowNode[];
      const edges = row.edges as FlowEdge[];
      const outgoing = new Map<string, FlowEdge[]>();
      for (const e of edges) outgoing.set(e.from, [...(outgoing.get(e.from) ?? []), e]);
      return {
        id: flowId,
        name: row.name,
        version: row.version,
        settings: row.settings as FlowSettings,
        nodes,
        edges,
        outgoing,
        plans: new Map(),
      };
    };
    let flow = await this.cache.get(`${tenantId}:${flowId}`, async () => {
      const row = await getFlow(this.database, tenantId, flowId);
      return row ? load(row) : null;
    });
    if (flow && draftRevision != null) {
      // A draft revision: immutable too.
      flow = await this.cache.get(`${tenantId}:${flowId}#${draftRevision}`, async () => {
        const row = await getDraftRevision(this.database, tenantId, flowId, draftRevision);
        return row ? { ...load({ ...row, version: row.base_version }), draftRevision } : null;
      });
    } else if (flow && version != null && flow.version !== version) {
      // An earlier version: immutable, so cached by its number (and dropped with the flow's notices).
      flow = await this.cache.get(`${tenantId}:${flowId}@${version}`, async () => {
        const row = await getFlowVersion(this.database, tenantId, flowId, version);
        return row ? load(row) : null;
      });
    }
    if (!flow?.nodes.some((n) => n.id === triggerNodeId)) return null;
    let plan = flow.plans.get(triggerNodeId);
    if (!plan) {
      plan = planFromTrigger(flow, triggerNodeId);
      flow.plans.set(triggerNodeId, plan);
    }
    return {
      id: flow.id,
      name: flow.name,
      version: flow.version,
      ...(flow.draftRevision !== undefined ? { draftRevision: flow.draftRevision } : {}),
      settings: flow.settings,
      plan,
      outgoing: flow.outgoing,
    };
  }
}
