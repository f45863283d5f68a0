/**
 * Cache invalidation across processes: `hookflow_cache` carries `flow:<tenant>:<id>` and
 * `tenant:<tenant>`. Sent inside the transaction that changed the row where there is one, so a
 * notification is delivered exactly when the change becomes visible.
 */
import { type Kysely, sql } from 'kysely';

export const CACHE_CHANNEL = 'hookflow_cache';

export async function notifyCache(db: Kysely<any>, payload: string): Promise<void> {
  await sql`select pg_notify(${CACHE_CHANNEL}, ${payload})`.execute(db);
}
