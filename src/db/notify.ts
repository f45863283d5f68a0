/**
 * Cache invalidation across processes: `hookflow_cache` carries `flow:<tenant>:<id>` and
 * `tenant:<tenant>`. Sent inside the transaction that changed the row where there is one, so a
 * notification is delivered exactly when the change becomes visible.
 */
import { type Kysely, sql } from 'kysely';

export const CACHE_CHANNEL = 'hookflow_cache';

/**
 * Caches in this process, told directly: a NOTIFY reaches this process's own LISTEN connection
 * asynchronously (PostgreSQL), so without this the caller's next request could still be answered
 * from the old entry (e.g. a rotated credential still accepted right after the PATCH returned).
 */
const localSubscribers = new Set<(payload: string) => void>();

export function onLocalCacheNotify(fn: (payload: string) => void): () => void {
  localSubscribers.add(fn);
  return () => {
    localSubscribers.delete(fn);
  };
}

export async function notifyCache(db: Kysely<any>, payload: string): Promise<void> {
  await sql`select pg_notify(${CACHE_CHANNEL}, ${payload})`.execute(db);
  for (const fn of localSubscribers) fn(payload);
}
