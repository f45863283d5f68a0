/**
 * Which event types a tenant's enabled endpoints subscribe to, cached per process: lifecycle events
 * nobody listens to (webhook.received, run.started) are then not written at all, which keeps the
 * run path's writes down. Dropped on any endpoint or tenant notification of that tenant.
 */
import type { Database } from '../db/connect.ts';
import { NotifiedCache, subscribeToCacheNotifications } from '../db/notifiedCache.ts';

export class SubscriptionCache {
  private readonly cache: NotifiedCache<Set<string>>;
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
      (payload) => {
        const [kind, tenantId] = payload.split(':');
        if ((kind === 'endpoint' || kind === 'tenant') && tenantId)
          this.cache.invalidate(`tenant:${tenantId}`);
      },
      () => this.cache.clear(),
    );
  }

  async stop(): Promise<void> {
    await this.unsubscribe?.();
  }

  /** True when some enabled endpoint of the tenant takes this event type (or "*"). */
  async wants(tenantId: string, eventType: string): Promise<boolean> {
    const types = await this.cache.get(tenantId, async () => {
      const rows = await this.database.db
        .selectFrom('endpoints')
        .select('events')
        .where('tenant_id', '=', tenantId)
        .where('enabled', '=', true)
        .execute();
      return new Set(rows.flatMap((r) => r.events as string[]));
    });
    return types.has('*') || types.has(eventType);
  }
}
