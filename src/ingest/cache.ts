/**
 * What the inbound hot path needs to know about a hook — the flow, its webhook nodes with their
 * decrypted credentials, open listen windows, and the tenant's IP allowlist — kept in process so
 * an accepted request reads nothing from the database. Entries are dropped on NOTIFY from any
 * process that changes them, and expire after a short TTL as a second line of defence.
 */
import ipaddr from 'ipaddr.js';
import type { Database } from '../db/connect.ts';
import { CACHE_CHANNEL, onLocalCacheNotify } from '../db/notify.ts';
import { type FlowNode, type WebhookConfig, webhookNodes } from '../core/flowDocument.ts';
import { loadCredential } from '../credentials/store.ts';
import { getFlow, listeningNodes } from '../flows/store.ts';
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
  firstNodeId?: string;
  nodes: Map<string, HookNode>;
};

export type TenantEntry = { allowlist?: (ip: string) => boolean };

type Cached<T> = { value: T; at: number };

export class HookCache {
  private flows = new Map<string, Cached<FlowEntry | null>>();
  private tenants = new Map<string, Cached<TenantEntry | null>>();
  private loading = new Map<string, Promise<unknown>>();
  private unsubscribe?: () => Promise<void>;
  private unsubscribeLocal?: () => void;
  /** Bumped by every invalidation: a load that started before it neither stores nor is joined. */
  private generation = 0;

  constructor(
    private readonly database: Database,
    private readonly secretKey: Buffer,
    private readonly ttlMs = 30_000,
    private readonly now: () => number = Date.now,
  ) {}

  async start(): Promise<void> {
    this.unsubscribeLocal = onLocalCacheNotify((payload) => this.invalidate(payload));
    this.unsubscribe = await this.database.listen(
      CACHE_CHANNEL,
      (payload) => this.invalidate(payload),
      () => this.clear(),
    );
  }

  async stop(): Promise<void> {
    this.unsubscribeLocal?.();
    await this.unsubscribe?.();
    this.clear();
  }

  clear(): void {
    this.generation++;
    this.loading.clear();
    this.flows.clear();
    this.tenants.clear();
  }

  /** `flow:<tenant>:<id>` drops one flow; `tenant:<tenant>` drops the tenant and all its flows. */
  invalidate(payload: string): void {
    const [kind, tenantId, id] = payload.split(':');
    this.generation++;
    this.loading.clear();
    if (kind === 'flow' && tenantId && id) this.flows.delete(`${tenantId}:${id}`);
    else if (kind === 'tenant' && tenantId) {
      this.tenants.delete(tenantId);
      for (const key of this.flows.keys()) if (key.startsWith(`${tenantId}:`)) this.flows.delete(key);
    } else this.clear();
  }

  async flow(tenantId: string, flowId: string): Promise<FlowEntry | null> {
    const key = `${tenantId}:${flowId}`;
    const hit = this.flows.get(key);
    if (hit && this.now() - hit.at < this.ttlMs) return hit.value;
    return this.load(`f:${key}`, async () => {
      const generation = this.generation;
      const value = await this.loadFlow(tenantId, flowId);
      if (generation === this.generation) this.flows.set(key, { value, at: this.now() });
      return value;
    });
  }

  async tenant(tenantId: string): Promise<TenantEntry | null> {
    const hit = this.tenants.get(tenantId);
    if (hit && this.now() - hit.at < this.ttlMs) return hit.value;
    return this.load(`t:${tenantId}`, async () => {
      const generation = this.generation;
      const row = await getTenant(this.database, tenantId);
      const value = row ? { allowlist: allowlistMatcher(row.settings?.ip_allowlist) } : null;
      if (generation === this.generation) this.tenants.set(tenantId, { value, at: this.now() });
      return value;
    });
  }

  private load<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const pending = this.loading.get(key);
    if (pending) return pending as Promise<T>;
    const p: Promise<T> = fn().finally(() => {
      if (this.loading.get(key) === p) this.loading.delete(key);
    });
    this.loading.set(key, p);
    return p;
  }

  private async loadFlow(tenantId: string, flowId: string): Promise<FlowEntry | null> {
    const row = await getFlow(this.database, tenantId, flowId);
    if (!row) return null;
    const nodes = webhookNodes({ nodes: row.nodes as FlowNode[] });
    const listening = new Map(
      (await listeningNodes(this.database, tenantId, flowId)).map((r) => [
        r.node_id,
        r.listening_until!.getTime(),
      ]),
    );
    const entry: FlowEntry = {
      tenantId,
      flowId,
      name: row.name,
      enabled: row.enabled,
      version: row.version,
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
