/**
 * Group commit for any write: items handed in during one turn of the event loop (and while the
 * previous batches are being written) are written together, so throughput is bound by the
 * database's commit rate per batch rather than per item. Each item's promise settles when its
 * batch has been written. When a batch fails, its items are written one by one, so a single bad
 * item fails only its own caller (a `write` that handles its own failures never throws, and gets
 * no such second try).
 */
export class Batcher<T, R> {
  private queue: { item: T; resolve: (r: R) => void; reject: (err: unknown) => void }[] = [];
  private inFlight = 0;
  private scheduled = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    /** Writes a batch; returns one result per item, in order. */
    private readonly write: (items: T[]) => Promise<R[]>,
    private readonly opts: { maxBatch: number; maxInFlight: number },
  ) {}

  add(item: T): Promise<R> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.kick();
    });
  }

  /** Resolves when nothing is queued or being written (for shutdown). */
  drain(): Promise<void> {
    if (this.queue.length === 0 && this.inFlight === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private kick(): void {
    if (this.scheduled || this.inFlight >= this.opts.maxInFlight) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      while (this.queue.length && this.inFlight < this.opts.maxInFlight) {
        const batch = this.queue.splice(0, this.opts.maxBatch);
        this.inFlight++;
        void this.run(batch).finally(() => {
          this.inFlight--;
          if (this.queue.length) this.kick();
          else if (this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
        });
      }
    });
  }

  private async run(batch: typeof this.queue): Promise<void> {
    try {
      const results = await this.write(batch.map((b) => b.item));
      for (let i = 0; i < batch.length; i++) batch[i].resolve(results[i]);
    } catch (err) {
      if (batch.length === 1) {
        batch[0].reject(err);
        return;
      }
      for (const b of batch) {
        try {
          b.resolve((await this.write([b.item]))[0]);
        } catch (e) {
          b.reject(e);
        }
      }
    }
  }
}
