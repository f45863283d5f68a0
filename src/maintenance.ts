/**
 * Periodic housekeeping that every process may run (each statement is idempotent and works in
 * small batches, so several processes doing it at once only share the work).
 */

import type { Database } from './db/connect.ts';
import { purgeDeliveredMessages } from './delivery/messages.ts';
import { purgeFinishedRuns } from './flows/runsStore.ts';
import { purgeOldScheduleTicks } from './flows/scheduleStore.ts';
import { purgeExpiredIdempotencyKeys } from './ingest/idempotency.ts';

export function startMaintenance(
  database: Database,
  log: { warn(obj: unknown, msg?: string): void },
  everyMs = 60_000,
): () => Promise<void> {
  let running: Promise<void> | undefined;
  const tick = () => {
    running ??= (async () => {
      try {
        // Expired idempotency keys, a batch at a time until none are left.
        while ((await purgeExpiredIdempotencyKeys(database)) > 0) {}
        // Messages, deliveries and attempts past each tenant's retention_days.
        while ((await purgeDeliveredMessages(database)) > 0) {}
        // Finished runs past each tenant's run_retention_days (null keeps them).
        while ((await purgeFinishedRuns(database)) > 0) {}
        // Claimed schedule ticks older than a day (each schedule's last tick is kept on its row).
        while ((await purgeOldScheduleTicks(database, new Date())) > 0) {}
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'maintenance failed; will retry');
      } finally {
        running = undefined;
      }
    })();
  };
  const timer = setInterval(tick, everyMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
