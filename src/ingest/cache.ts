/**
 * What the inbound hot path needs to know about a hook — the flow, its webhook nodes with their
 * decrypted credentials, open listen windows, and the tenant's IP allowlist — kept in process so
 * an accepted request reads nothing from the database. Entries are dropped on NOTIFY from any
 * process that changes them, and expire after a short TTL as a second line of defence.
 */
import ipaddr from 'ipaddr.js';
import { type FlowNode, webhookNodes } from '../core/flowDocument.ts';
import { loadCredential } from '../credentials/store.ts';
import type { Database } from '../db/connect.ts';
import { NotifiedCache, subscribeToCacheNotifications } from '../db/notifiedCache.ts';
import { getDraft } from '../flows/draftStore.ts';
import { getFlow, listeningNodes } from '../flows/store.ts';
import type { WebhookConfig } from '../nodes/webhook/index.ts';
import { getTenant } from '../tenants/store.ts';

/** null: the node names a credential that does not exist (or cannot be decrypted) — requests fail closed. */
export type HookCredential = { type: string; data: Record<string, unknown> } | null;

export type HookNode = {
  node: FlowNode;
  config: WebhookConfig;
  credential?: HookCredential;
  listeningUntil?: number;
};

export type FlowEntry = {
  tenantId: string;
  flowId: string;
  name: string;
  enabled: boolean;
  version: number;
  /** The test URL's entry (docs/api.md §3.13): the draft revision it serves, if there is a draft. */
  draftRevision?: number;
  /** settings.max_concurrency: such runs are always claimed by the workers' counting claim. */
  maxConcurrency: number | null;
  firstNodeId?: string;
  nodes: Map<string, HookNode>;
};

export type TenantEntry = {
  allowlist?: (ip: string) => boolean;
  /** settings.max_concurrent_runs: such a tenant's runs are always claimed by the workers' counting claim. */
  maxConcurrentRuns: number | null;
};

export class HookCache {
  private readonly flows: NotifiedCache<FlowEntry | null>;
  /** What the test URL serves: the draft, else the live flow. */
  private readonly testFlows: NotifiedCache<FlowEntry | null>;
  private readonly tenants: NotifiedCache<TenantEntry | null>;
  private unsubscribe?: () => Promise<void>;

  constructor(
    private readonly database: Database,
    private readonly secretKey: Buffer,
    ttlMs = 30_000,
    now: () => number = Date.now,
  ) {
    this.flows = new NotifiedCache(ttlMs, now);
    this.testFlows = new NotifiedCache(ttlMs, now);
    this.tenants = new NotifiedCache(ttlMs, now);
  }

  async start(): Promise<void> {
    this.unsubscribe = await subscribeToCacheNotifications(
      this.database,
      (payload) => this.invalidate(payload),
      () => this.clear(),
    );
  }

  async stop(): Promise<void> {
    await this.unsubscribe?.();
    this.clear();
  }

  clear(): void {
    this.flows.clear();
    this.testFlows.clear();
    this.tenants.clear();
  }

  /** `flow:<tenant>:<id>` drops one flow; `tenant:<tenant>` drops the tenant and all its flows. */
  invalidate(payload: string): void {
    this.flows.invalidate(payload);
    this.testFlows.invalidate(payload);
    this.tenants.invalidate(payload);
  }

  flow(tenantId: string, flowId: string): Promise<FlowEntry | null> {
    return this.flows.get(`${tenantId}:${flowId}`, () => this.loadFlow(tenantId, flowId));
  }

  /** The flow as the test URL serves it: its draft when it has one, else as it is live. */
  testFlow(tenantId: string, flowId: string): Promise<FlowEntry | null> {
    return this.testFlows.get(`${tenantId}:${flowId}`, async () => {
      const row = await getFlow(this.database, tenantId, flowId);
      if (!row) return null;
      const draft = row.draft_revision === null ? undefined : await getDraft(this.database, tenantId, flowId);
      const entry = await this.entryOf(tenantId, flowId, draft ? { ...row, ...draft } : row, false);
      if (draft) entry.draftRevision = draft.revision;
      return entry;
    });
  }

  tenant(tenantId: string): Promise<TenantEntry | null> {
    return this.tenants.get(tenantId, async () => {
      const row = await getTenant(this.database, tenantId);
      return row
        ? {
            allowlist: allowlistMatcher(row.settings?.ip_allowlist),
            maxConcurrentRuns: row.settings?.max_concurrent_runs ?? null,
          }
        : null;
    });
  }

  private async loadFlow(tenantId: string, flowId: string): Promise<FlowEntry | null> {
    const row = await getFlow(this.database, tenantId, flowId);
    return row ? this.entryOf(tenantId, flowId, row, true) : null;
  }

  private async entryOf(
    tenantId: string,
    flowId: string,
    row: { name: string; enabled: boolean; version: number; nodes: unknown[]; settings: unknown },
    withListening: boolean,
  ): Promise<FlowEntry> {
    const nodes = webhookNodes({ nodes: row.nodes as FlowNode[] });
    const listening = new Map(
      withListening
        ? (await listeningNodes(this.database, tenantId, flowId)).map((r) => [
            r.node_id,
            r.listening_until!.getTime(),
          ])
        : [],
    );
    const entry: FlowEntry = {
      tenantId,
      flowId,
      name: row.name,
      enabled: row.enabled,
      version: row.version,
      maxConcurrency: (row.settings as { max_concurrency?: number | null } | null)?.max_concurrency ?? null,
      firstNodeId: nodes[0]?.id,
      nodes: new Map(),
    };
    for (const node of nodes) {
      const config = node.config as WebhookConfig;
      let credential: HookCredential | undefined;
      if (config.auth.type !== 'none' && config.auth.credential_id) {
        try {
          credential =
            (await loadCredential(this.database, this.secretKey, tenantId, config.auth.credential_id)) ??
            null;
        } catch {
          credential = null;
        }
      }
      entry.nodes.set(node.id, { node, config, credential, listeningUntil: listening.get(node.id) });
    }
    return entry;
  }
}

/** A matcher for a list of CIDRs / addresses; undefined when the list is empty (everyone allowed). */
export function allowlistMatcher(list: string[] | undefined): ((ip: string) => boolean) | undefined {
  if (!list?.length) return undefined;
  const ranges: [ipaddr.IPv4 | ipaddr.IPv6, number][] = [];
  for (const entry of list) {
    try {
      if (entry.includes('/')) ranges.push(ipaddr.parseCIDR(entry));
      else {
        const a = ipaddr.parse(entry);
        ranges.push([a, a.kind() === 'ipv4' ? 32 : 128]);
      }
    } catch {
      // Validated on save; an unparsable entry allows nothing.
    }
  }
  return (ip: string) => {
    let addr: ipaddr.IPv4 | ipaddr.IPv6;
    try {
      addr = ipaddr.process(ip);
    } catch {
      return false;
    }
    return ranges.some(([range, bits]) => addr.kind() === range.kind() && addr.match(range, bits));
  };
}
