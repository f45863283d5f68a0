/**
 * The code node's sandbox pool (docs/api.md §4.3 `code`): QuickJS in WebAssembly on worker threads,
 * so a job that spins or allocates never runs on the event loop that serves everyone else. Each job
 * has a deadline inside the sandbox and a watchdog outside it: a thread that does not answer within
 * its job's time (plus a grace) is terminated and replaced. A tenant holds at most `perTenant`
 * threads, so one tenant's runaway code leaves threads for the others.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

export type CodeJob = { source: string; input: unknown; timeoutMs: number; memoryMb: number };
export type CodeResult =
  | { ok: true; value: unknown; logs: string[]; logsCut?: boolean }
  | { ok: false; error: string; logs: string[]; logsCut?: boolean };

type Pending = { id: number; tenantId: string; job: CodeJob; resolve: (r: CodeResult) => void };
type Slot = { worker: Worker; busy?: Pending; watchdog?: ReturnType<typeof setTimeout> };

/** How long past a job's own time limit the watchdog waits for its thread to answer. */
const WATCHDOG_GRACE_MS = 500;

export type CodeSandboxOptions = {
  /** Threads (default: the machine's parallelism, at least 2, at most 8). */
  threads?: number;
  /** Threads one tenant may hold at once (default: half of them, at least 1). */
  perTenant?: number;
};

export class CodeSandbox {
  readonly threads: number;
  readonly perTenant: number;
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private closed = false;
  /** Threads terminated by the watchdog (for tests and metrics). */
  terminated = 0;

  constructor(opts: CodeSandboxOptions = {}) {
    this.threads = Math.max(1, opts.threads ?? Math.min(8, Math.max(2, availableParallelism())));
    this.perTenant = Math.max(1, opts.perTenant ?? Math.ceil(this.threads / 2));
  }

  /** Runs one job; never rejects — a failure of the code or of the sandbox is `{ok: false}`. */
  run(tenantId: string, job: CodeJob): Promise<CodeResult> {
    if (this.closed) return Promise.resolve({ ok: false, error: 'The code sandbox is shut down', logs: [] });
    let input: string;
    try {
      input = JSON.stringify(job.input ?? null);
    } catch (err) {
      return Promise.resolve({ ok: false, error: `input: ${(err as Error).message}`, logs: [] });
    }
    return new Promise((resolve) => {
      this.queue.push({ id: this.nextId++, tenantId, job: { ...job, input }, resolve });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.queue.splice(0))
      p.resolve({ ok: false, error: 'The code sandbox is shut down', logs: [] });
    await Promise.all(
      this.slots.splice(0).map(async (s) => {
        clearTimeout(s.watchdog);
        s.busy?.resolve({ ok: false, error: 'The code sandbox is shut down', logs: [] });
        await s.worker.terminate();
      }),
    );
  }

  private running(tenantId: string): number {
    return this.slots.filter((s) => s.busy?.tenantId === tenantId).length;
  }

  private dispatch(): void {
    while (this.queue.length) {
      const index = this.queue.findIndex((p) => this.running(p.tenantId) < this.perTenant);
      if (index < 0) return;
      const slot =
        this.slots.find((s) => !s.busy) ?? (this.slots.length < this.threads ? this.spawn() : undefined);
      if (!slot) return;
      const [pending] = this.queue.splice(index, 1);
      if (pending) this.start(slot, pending);
    }
  }

  private spawn(): Slot {
    const worker = new Worker(new URL('./sandboxWorker.mjs', import.meta.url));
    const slot: Slot = { worker };
    worker.unref();
    worker.on('message', (msg: { id: number } & CodeResult) => {
      if (slot.busy?.id !== msg.id) return;
      const { id: _id, ...result } = msg;
      this.finish(slot, result as CodeResult);
    });
    const lost = (why: string) => {
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots.splice(i, 1);
      if (slot.busy)
        this.finish(slot, { ok: false, error: `The code sandbox stopped: ${why}`, logs: [] }, true);
    };
    worker.on('error', (err) => lost(err.message));
    worker.on('exit', (code) => lost(`exit ${code}`));
    this.slots.push(slot);
    return slot;
  }

  private start(slot: Slot, pending: Pending): void {
    slot.busy = pending;
    slot.worker.ref();
    slot.watchdog = setTimeout(() => {
      // The thread did not answer in time (a native operation the deadline could not interrupt).
      this.terminated++;
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots.splice(i, 1);
      this.finish(
        slot,
        { ok: false, error: `Code ran longer than ${pending.job.timeoutMs} ms`, logs: [] },
        true,
      );
      void slot.worker.terminate();
    }, pending.job.timeoutMs + WATCHDOG_GRACE_MS);
    slot.worker.postMessage({ id: pending.id, ...pending.job });
  }

  private finish(slot: Slot, result: CodeResult, gone = false): void {
    const pending = slot.busy;
    clearTimeout(slot.watchdog);
    slot.busy = undefined;
    slot.watchdog = undefined;
    if (!gone) slot.worker.unref();
    if (pending) {
      pending.resolve(result.ok ? { ...result, value: JSON.parse(result.value as string) } : result);
    }
    if (!this.closed) this.dispatch();
  }
}
