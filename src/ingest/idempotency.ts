/**
 * Idempotent acceptance: the first request with a key stores its run and its answer in one
 * transaction; a repeat within the window gets the same answer and creates nothing. Two identical
 * requests racing are serialised by the key's row lock, so exactly one run exists.
 */
import { sql } from 'kysely';
import type { Database } from '../db/connect.ts';
import { insertQueuedRuns, type NewRun } from '../flows/runsStore.ts';

export type StoredResponse = { status: number; headers: Record<string, string>; body: Buffer };

export async function acceptIdempotent(
  database: Database,
  input: { run: NewRun; key: string; windowS: number; response: StoredResponse },
): Promise<{ replayed: false } | { replayed: true; response: StoredResponse }> {
  const { run } = input;
  return database.db.transaction().execute(async (tx) => {
    const claimed = await sql<{ run_id: string }>`
      insert into idempotency_keys
        (tenant_id, flow_id, node_id, key, run_id, response_status, response_headers, response_body, expires_at)
      values (${run.tenantId}, ${run.flowId}, ${run.triggerNodeId}, ${input.key}, ${run.id},
              ${input.response.status}, ${JSON.stringify(input.response.headers)}::jsonb, ${input.response.body},
              now() + make_interval(secs => ${input.windowS}))
      on conflict (tenant_id, flow_id, node_id, key) do update
        set run_id = excluded.run_id, response_status = excluded.response_status,
            response_headers = excluded.response_headers, response_body = excluded.response_body,
            expires_at = excluded.expires_at, created_at = now()
        where idempotency_keys.expires_at <= now()
      returning run_id
    `.execute(tx);
    if (claimed.rows.length > 0) {
      await insertQueuedRuns(tx, [run]);
      return { replayed: false as const };
    }
    const prior = await tx
      .selectFrom('idempotency_keys')
      .select(['response_status', 'response_headers', 'response_body'])
      .where('tenant_id', '=', run.tenantId)
      .where('flow_id', '=', run.flowId)
      .where('node_id', '=', run.triggerNodeId)
      .where('key', '=', input.key)
      .executeTakeFirstOrThrow();
    return {
      replayed: true as const,
      response: { status: prior.response_status, headers: prior.response_headers, body: prior.response_body },
    };
  });
}

/** Removes expired keys in batches (called periodically). */
export async function purgeExpiredIdempotencyKeys(database: Database, batch = 1000): Promise<number> {
  const r = await sql`
    delete from idempotency_keys where ctid in (
      select ctid from idempotency_keys where expires_at < now() limit ${batch}
    )`.execute(database.db);
  return Number(r.numAffectedRows ?? 0);
}
