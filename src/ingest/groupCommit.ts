/**
 * Group commit for accepted webhooks: concurrent requests are collected and written in one
 * INSERT, so throughput is bounded by the database's commit rate rather than by one round trip per
 * request. A request's promise resolves only after the transaction holding its row has committed.
 *
 * While a batch is in flight the next one fills; at most `maxInFlight` batches run at once. If a
 * batch fails, its rows are retried one by one so a single unstorable row (say, a value PostgreSQL
 * rejects) fails only its own request.
 */
import type { Database } from '../db/connect.ts';
import { insertQueuedRuns, type NewRun } from '../flows/runsStore.ts';

type Pending = { run: NewRun; resolve: () => void; reject: (err: unknown) => void };

export class RunGroupCommitter {
  private queue: Pending[] = [];
  private inFlight = 0;
  private scheduled = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly database: Database,
    private readonly maxBatch = 500,
    private readonly maxInFlight = database.kind === 'pglite' ? 1 : 4,
  ) {}

  /** Resolves when the run is committed. */
  insert(run: NewRun): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ run, resolve, reject });
      this.kick();
    });
  }

  /** Resolves when nothing is queued or in flight (for shutdown). */
  async drain(): Promise<void> {
    if (this.queue.length === 0 && this.inFlight === 0) return;
    await new Promise<void>((r) => this.idleWaiters.push(r));
  }

  private kick(): void {
    if (this.scheduled || this.inFlight >= this.maxInFlight) return;
    this.scheduled = true;
    // Let the current tick's requests join the batch.
    setImmediate(() => {
      this.scheduled = false;
      this.flushSome();
    });
  }

  private flushSome(): void {
    while (this.queue.length > 0 && this.inFlight < this.maxInFlight) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.inFlight++;
      void this.write(batch).finally(() => {
        this.inFlight--;
        if (this.queue.length > 0) this.flushSome();
        else if (this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
      });
    }
  }

  private async write(batch: Pending[]): Promise<void> {
    try {
      await insertQueuedRuns(
        this.database.db,
        batch.map((p) => p.run),
      );
      for (const p of batch) p.resolve();
      return;
    } catch (err) {
      if (batch.length === 1) {
        batch[0].reject(err);
        return;
      }
    }
    for (const p of batch) {
      try {
        await insertQueuedRuns(this.database.db, [p.run]);
        p.resolve();
      } catch (err) {
        p.reject(err);
      }
    }
  }
}
