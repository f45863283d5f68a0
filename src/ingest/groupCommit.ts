/**
 * Group commit for accepted webhooks: concurrent requests are collected and written in one
 * INSERT, so throughput is bounded by the database's commit rate rather than by one round trip per
 * request. A request's promise resolves only after the transaction holding its row has committed.
 *
 * The batching is core/batcher.ts: while a batch is in flight the next one fills; at most
 * `maxInFlight` batches run at once. If a batch fails, its rows are retried one by one so a single
 * unstorable row (say, a value PostgreSQL rejects) fails only its own request.
 */
import { Batcher } from '../core/batcher.ts';
import type { Database } from '../db/connect.ts';
import { insertQueuedRuns, type LocalClaim, type NewRun } from '../flows/runsStore.ts';

/**
 * The run worker of this process, when there is one: runs it has room for are stored already
 * claimed under its lease and handed to it from memory — no claim round trip, no re-reading what
 * was just written. A crash leaves them to the lease like any claimed run.
 */
export type LocalRunner = {
  readonly workerId: string;
  readonly leaseMs: number;
  now(): number;
  /** Takes up to `n` slots for runs of `tenantId` (its fair share decides); returns how many it took. */
  reserve(tenantId: string, n: number): number;
  unreserve(tenantId: string, n: number): void;
  /** The runs were committed as claimed by this worker. */
  adopt(runs: NewRun[], claim: LocalClaim): void;
};

export class RunGroupCommitter {
  private readonly batcher: Batcher<NewRun, undefined>;
  private local?: LocalRunner;

  constructor(
    private readonly database: Database,
    maxBatch = 500,
    maxInFlight = database.kind === 'pglite' ? 1 : 4,
  ) {
    this.batcher = new Batcher((runs) => this.write(runs), { maxBatch, maxInFlight });
  }

  /** Hands runs to this process's worker from now on. */
  setLocalRunner(local: LocalRunner | undefined): void {
    this.local = local;
  }

  /** Resolves when the run is committed. */
  insert(run: NewRun): Promise<void> {
    return this.batcher.add(run);
  }

  /** Resolves when nothing is queued or in flight (for shutdown). */
  drain(): Promise<void> {
    return this.batcher.drain();
  }

  /**
   * One batch: the runs this process's worker has room for are stored claimed by it and handed
   * over once committed; the rest queued. (When a batch fails, the Batcher writes its runs one by
   * one through here again, so one unstorable run fails only its own request.)
   */
  private async write(batch: NewRun[]): Promise<undefined[]> {
    let runs = batch;
    let claim: LocalClaim | undefined;
    const local = this.local;
    if (local) {
      // Each tenant's eligible runs get what its fair share of the worker's slots allows.
      const byTenant = new Map<string, NewRun[]>();
      for (const r of runs)
        if (r.local) {
          const list = byTenant.get(r.tenantId);
          if (list) list.push(r);
          else byTenant.set(r.tenantId, [r]);
        }
      const taken = new Set<NewRun>();
      for (const [tenantId, list] of byTenant) {
        const count = local.reserve(tenantId, list.length);
        for (let i = 0; i < count; i++) taken.add(list[i]);
      }
      if (taken.size > 0) {
        // The claimed ones first: the insert marks the first `count` rows.
        runs = [...taken, ...runs.filter((r) => !taken.has(r))];
        const now = local.now();
        claim = {
          workerId: local.workerId,
          now: new Date(now),
          until: new Date(now + local.leaseMs),
          count: taken.size,
        };
      }
    }
    try {
      await insertQueuedRuns(this.database.db, runs, claim);
    } catch (err) {
      if (claim) for (const r of runs.slice(0, claim.count)) local!.unreserve(r.tenantId, 1);
      throw err;
    }
    if (claim) local!.adopt(runs.slice(0, claim.count), claim);
    return batch.map(() => undefined);
  }
}
