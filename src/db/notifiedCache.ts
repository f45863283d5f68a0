/**
 * An in-process cache of database rows that other processes may change: entries expire after a TTL
 * and are dropped at once when a `hookflow_cache` notification names them (`<kind>:<tenant>:<id>`,
 * e.g. `flow:…` or `endpoint:…`, drops key `<tenant>:<id>`; `tenant:<tenant>` drops `<tenant>` and
 * every `<tenant>:…` key).
 * Concurrent misses for one key share one load, and a load that overlaps an invalidation is
 * returned but not stored, so a stale row never outlives the notification that replaced it.
 */
import type { Database } from './connect.ts';
import { CACHE_CHANNEL, onLocalCacheNotify } from './notify.ts';

export class NotifiedCache<T> {
  private entries = new Map<string, { value: T; at: number }>();
  private loading = new Map<string, Promise<T>>();
  private generation = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async get(key: string, load: () => Promise<T>): Promise<T> {
    const hit = this.entries.get(key);
    if (hit && this.now() - hit.at < this.ttlMs) return hit.value;
    const pending = this.loading.get(key);
    if (pending) return pending;
    const generation = this.generation;
    const p: Promise<T> = load()
      .then((value) => {
        if (generation === this.generation) this.entries.set(key, { value, at: this.now() });
        return value;
      })
      .finally(() => {
        if (this.loading.get(key) === p) this.loading.delete(key);
      });
    this.loading.set(key, p);
    return p;
  }

  invalidate(payload: string): void {
    this.generation++;
    this.loading.clear();
    const [kind, tenantId, id] = payload.split(':');
    if (kind && tenantId && id) this.entries.delete(`${tenantId}:${id}`);
    else if (kind === 'tenant' && tenantId) {
      this.entries.delete(tenantId);
      for (const key of this.entries.keys()) if (key.startsWith(`${tenantId}:`)) this.entries.delete(key);
    } else this.clear();
  }

  clear(): void {
    this.generation++;
    this.loading.clear();
    this.entries.clear();
  }
}

/**
 * Feeds cache notifications — this process's own, told directly, and other processes' through
 * LISTEN — to `onPayload`; `onReset` runs when the LISTEN connection was re-established (some
 * notifications may have been missed). Returns the unsubscribe function.
 */
export async function subscribeToCacheNotifications(
  database: Database,
  onPayload: (payload: string) => void,
  onReset: () => void,
): Promise<() => Promise<void>> {
  const offLocal = onLocalCacheNotify(onPayload);
  const offRemote = await database.listen(CACHE_CHANNEL, onPayload, onReset);
  return async () => {
    offLocal();
    await offRemote();
  };
}
