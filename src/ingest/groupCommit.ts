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

type Pending = { run: NewRun; resolve: () => void; reject: (err: unknown) => void };

export class RunGroupCommitter {
  private queue: Pending[] = [];
  private inFlight = 0;
  private scheduled = false;
  private idleWaiters: (() => void)[] = [];
  private local?: LocalRunner;

  constructor(
    private readonly database: Database,
    private readonly maxBatch = 500,
    private readonly maxInFlight = database.kind === 'pglite' ? 1 : 4,
  ) {}

  /** Hands runs to this process's worker from now on. */
  setLocalRunner(local: LocalRunner | undefined): void {
    this.local = local;
  }

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
    let runs = batch.map((p) => p.run);
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
      if (batch.length === 1) {
        batch[0].reject(err);
        return;
      }
      // One unstorable row must fail only its own request: the rest one by one (queued).
      for (const p of batch) {
        try {
          await insertQueuedRuns(this.database.db, [p.run]);
          p.resolve();
        } catch (e) {
          p.reject(e);
        }
      }
      return;
    }
    if (claim) local!.adopt(runs.slice(0, claim.count), claim);
    for (const p of batch) p.resolve();
  }
}
