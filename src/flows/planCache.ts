/**
 * Flow definitions as run workers need them — settings and an execution plan per trigger node —
 * cached in process and dropped on the same notifications as the ingest cache.
 */
import type { FlowEdge, FlowNode, FlowSettings } from '../core/flowDocument.ts';
import { type ExecutionPlan, planFromTrigger } from '../core/flowGraph.ts';
import type { Database } from '../db/connect.ts';
import { NotifiedCache, subscribeToCacheNotifications } from '../db/notifiedCache.ts';
import type { FlowForRun } from './engine.ts';
import { getFlow } from './store.ts';

type LoadedFlow = {
  id: string;
  name: string;
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

  /** The flow with its plan from `triggerNodeId`; null when the flow or that trigger is gone. */
  async get(tenantId: string, flowId: string, triggerNodeId: string): Promise<FlowForRun | null> {
    const flow = await this.cache.get(`${tenantId}:${flowId}`, async () => {
      const row = await getFlow(this.database, tenantId, flowId);
      if (!row) return null;
      const nodes = row.nodes as FlowNode[];
      const edges = row.edges as FlowEdge[];
      const outgoing = new Map<string, FlowEdge[]>();
      for (const e of edges) outgoing.set(e.from, [...(outgoing.get(e.from) ?? []), e]);
      return {
        id: row.id,
        name: row.name,
        settings: row.settings as FlowSettings,
        nodes,
        edges,
        outgoing,
        plans: new Map(),
      };
    });
    if (!flow?.nodes.some((n) => n.id === triggerNodeId)) return null;
    let plan = flow.plans.get(triggerNodeId);
    if (!plan) {
      plan = planFromTrigger(flow, triggerNodeId);
      flow.plans.set(triggerNodeId, plan);
    }
    return { id: flow.id, name: flow.name, settings: flow.settings, plan, outgoing: flow.outgoing };
  }
}
