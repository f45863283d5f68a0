/**
 * The code node's sandbox pool (docs/api.md §4.3 `code`): QuickJS in WebAssembly on worker threads,
 * so a job that spins or allocates never runs on the event loop that serves everyone else. Each job
 * has a deadline inside the sandbox and a watchdog outside it: a thread that does not answer within
 * its job's time (plus a grace) is terminated and replaced.
 *
 * Scheduling, per job, in this order:
 * - A tenant holding fewer than `perTenant` threads takes an idle thread, or a new one. While some
 *   tenant holds more than its `perTenant` (it borrowed idle threads, see below), the pool keeps one
 *   thread more than `threads` per borrowed thread, started (and its QuickJS module loaded) as the
 *   borrowing starts: a tenant that then needs a thread takes one at once, so its jobs never wait
 *   behind another tenant's borrowed ones, however long those run. Such an added thread ends after
 *   SPARE_IDLE_MS idle once the borrowing is over.
 * - Work-conserving: a tenant at its `perTenant` may still borrow an idle thread while fewer than
 *   `threads` are busy; tenants holding fewer threads are served first.
 * - Otherwise the job is queued on a thread already running that tenant's jobs, behind at most
 *   `depth - 1` of them, when all of those are known to be quick (their source's last run took less
 *   than PIPELINE_BEHIND_MS) and the running one started less than that ago: the thread goes from
 *   one job to the next without a round trip through this event loop, which is often busy (on the
 *   embedded database a query holds it for milliseconds). Jobs queue on a thread only behind their
 *   own tenant's quick jobs, never another tenant's, never behind code that spins.
 * - Or it waits here, in its tenant's queue.
 *
 * Jobs on a thread that is lost or terminated and had not started go back to their queue.
 */
import { availableParallelism } from 'node:os';
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';

export type CodeJob = { source: string; input: unknown; timeoutMs: number; memoryMb: number };
export type CodeResult =
  | { ok: true; value: unknown; logs: string[]; logsCut?: boolean }
  | { ok: false; error: string; logs: string[]; logsCut?: boolean };

/** A job as sent to its thread: the input already JSON text. */
type WireJob = { source: string; input: string; timeoutMs: number; memoryMb: number };
type Pending = { id: number; tenantId: string; job: WireJob; resolve: (r: CodeResult) => void };
type Slot = {
  worker: Worker;
  port: MessagePort;
  /** Sent to the thread, in order: the first is running (since `headSince`), the rest wait there. */
  jobs: Pending[];
  headSince: number;
  /** When the slot last became idle. */
  idleSince: number;
  watchdog?: ReturnType<typeof setTimeout>;
};
type Answer = { id: number; ms?: number } & CodeResult;

/** How long past a job's own time limit the watchdog waits for its thread to answer. */
const WATCHDOG_GRACE_MS = 500;
/**
 * A job is queued on a thread only behind jobs whose code last ran in less than this (measured in
 * the thread), the running one started at most this long ago.
 */
const PIPELINE_BEHIND_MS = 50;
/** Sources remembered with their last run time (forgotten all at once past this many). */
const MAX_TIMED_SOURCES = 1000;
/** How long a thread beyond `threads` stays idle, no longer needed, before it ends. */
const SPARE_IDLE_MS = 10_000;
const SHUT_DOWN: CodeResult = { ok: false, error: 'The code sandbox is shut down', logs: [] };

export type CodeSandboxOptions = {
  /** Threads (default: the machine's parallelism, at least 2, at most 8). */
  threads?: number;
  /** Threads one tenant holds at least when it needs them (default: half of them, at least 1). */
  perTenant?: number;
  /** Jobs sent to one thread at once, the running one included (default 8; 1: one at a time). */
  depth?: number;
  /** How long an added thread, no longer needed, stays idle before it ends (default SPARE_IDLE_MS). */
  spareIdleMs?: number;
};

export class CodeSandbox {
  readonly threads: number;
  readonly perTenant: number;
  readonly depth: number;
  readonly spareIdleMs: number;
  private trimTimer?: ReturnType<typeof setTimeout>;
  /** When a thread was last lost (no spare is started for a second after: no spawn loop). */
  private lostAt = 0;
  private readonly slots: Slot[] = [];
  /** Jobs not yet sent to a thread, per tenant; a tenant is listed while it has some. */
  private readonly waiting = new Map<string, Pending[]>();
  /** The tenant whose jobs a busy slot runs (a slot runs one tenant's jobs at a time). */
  private readonly owner = new Map<Slot, string>();
  /** How long each source's code last ran, ms (see PIPELINE_BEHIND_MS). */
  private readonly lastMs = new Map<string, number>();
  private nextId = 1;
  private closed = false;
  private dispatchQueued = false;
  /** Jobs placed on a thread in this dispatch, sent together: one message per thread, not per job. */
  private readonly outbox = new Map<Slot, WireJob[]>();
  /** Threads terminated by the watchdog (for tests and metrics). */
  terminated = 0;

  constructor(opts: CodeSandboxOptions = {}) {
    this.threads = Math.max(1, opts.threads ?? Math.min(8, Math.max(2, availableParallelism())));
    this.perTenant = Math.max(1, opts.perTenant ?? Math.ceil(this.threads / 2));
    this.depth = Math.max(1, opts.depth ?? 8);
    this.spareIdleMs = Math.max(0, opts.spareIdleMs ?? SPARE_IDLE_MS);
  }

  /** Threads running now (for tests and metrics). */
  get threadCount(): number {
    return this.slots.length;
  }

  /** Threads with jobs now (for tests and metrics). */
  get busyThreads(): number {
    return this.owner.size;
  }

  /** Runs one job; never rejects — a failure of the code or of the sandbox is `{ok: false}`. */
  run(tenantId: string, job: CodeJob): Promise<CodeResult> {
    if (this.closed) return Promise.resolve(SHUT_DOWN);
    let input: string;
    try {
      input = JSON.stringify(job.input ?? null);
    } catch (err) {
      return Promise.resolve({ ok: false, error: `input: ${(err as Error).message}`, logs: [] });
    }
    return new Promise((resolve) => {
      const pending: Pending = {
        id: this.nextId++,
        tenantId,
        job: { source: job.source, input, timeoutMs: job.timeoutMs, memoryMb: job.memoryMb },
        resolve,
      };
      const queue = this.waiting.get(tenantId);
      if (queue) queue.push(pending);
      else this.waiting.set(tenantId, [pending]);
      this.schedule();
    });
  }

  /** A dispatch after the current task: jobs asked for, and answers read, in one go are placed together. */
  private schedule(): void {
    if (this.dispatchQueued) return;
    this.dispatchQueued = true;
    queueMicrotask(() => {
      this.dispatchQueued = false;
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.trimTimer);
    for (const queue of this.waiting.values()) for (const p of queue) p.resolve(SHUT_DOWN);
    this.waiting.clear();
    await Promise.all(
      this.slots.splice(0).map(async (s) => {
        clearTimeout(s.watchdog);
        for (const p of s.jobs.splice(0)) p.resolve(SHUT_DOWN);
        s.port.close();
        await s.worker.terminate();
      }),
    );
  }

  /** Threads held per tenant, the busy ones, and the threads borrowed beyond `perTenant`. */
  private census() {
    const held = new Map<string, number>();
    for (const [, tenant] of this.owner) held.set(tenant, (held.get(tenant) ?? 0) + 1);
    let borrowed = 0;
    for (const n of held.values()) borrowed += Math.max(0, n - this.perTenant);
    return { held, busy: this.owner.size, borrowed };
  }

  private dispatch(): void {
    while (!this.closed && this.waiting.size) {
      const { held, busy, borrowed } = this.census();
      // Tenants holding fewer threads first; among equals, the one listed longest.
      const order = [...this.waiting.keys()];
      if (order.length > 1) order.sort((a, b) => (held.get(a) ?? 0) - (held.get(b) ?? 0));
      let sent = false;
      for (const tenant of order) {
        const slot = this.placeFor(tenant, held.get(tenant) ?? 0, busy, borrowed);
        if (!slot) continue;
        const queue = this.waiting.get(tenant)!;
        const pending = queue.shift()!;
        if (!queue.length) this.waiting.delete(tenant);
        this.send(slot, pending);
        sent = true;
        break;
      }
      if (!sent) break;
    }
    for (const [slot, jobs] of this.outbox) slot.port.postMessage(jobs);
    this.outbox.clear();
    this.resize();
  }

  /** The thread for `tenant`'s next job now, or undefined (it waits). */
  private placeFor(tenant: string, holds: number, busy: number, borrowed: number): Slot | undefined {
    const idle = this.slots.find((s) => !s.jobs.length);
    if (holds < this.perTenant) {
      if (idle) return idle;
      if (this.slots.length < this.threads + borrowed) return this.spawn();
    } else if (busy < this.threads) {
      if (idle) return idle;
      if (this.slots.length < this.threads) return this.spawn();
    }
    // Behind the tenant's own jobs on one of its threads: jobs known to be quick, the running one young.
    if (this.depth < 2) return undefined;
    const now = Date.now();
    let best: Slot | undefined;
    for (const s of this.slots) {
      if (this.owner.get(s) !== tenant || s.jobs.length >= this.depth) continue;
      if (now - s.headSince > PIPELINE_BEHIND_MS) continue;
      if (
        !s.jobs.every((p) => (this.lastMs.get(p.job.source) ?? Number.POSITIVE_INFINITY) < PIPELINE_BEHIND_MS)
      )
        continue;
      if (!best || s.jobs.length < best.jobs.length) best = s;
    }
    return best;
  }

  private spawn(): Slot {
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(new URL('./sandboxWorker.mjs', import.meta.url), {
      workerData: { port: port2 },
      transferList: [port2],
    });
    const slot: Slot = { worker, port: port1, jobs: [], headSince: 0, idleSince: Date.now() };
    worker.unref();
    port1.on('message', (msg: Answer) => this.answered(slot, msg));
    port1.unref();
    const lost = (why: string) => {
      if (!this.remove(slot)) return;
      this.lostAt = Date.now();
      const [head, ...rest] = slot.jobs.splice(0);
      clearTimeout(slot.watchdog);
      head?.resolve({ ok: false, error: `The code sandbox stopped: ${why}`, logs: [] });
      this.requeue(rest);
      this.dispatch();
    };
    worker.on('error', (err) => lost(err.message));
    worker.on('exit', (code) => lost(`exit ${code}`));
    this.slots.push(slot);
    return slot;
  }

  /** Takes a slot out of the pool; false when it was out already. */
  private remove(slot: Slot): boolean {
    const i = this.slots.indexOf(slot);
    if (i < 0) return false;
    this.slots.splice(i, 1);
    this.owner.delete(slot);
    return true;
  }

  /** Jobs a lost thread had not started go back to the front of their tenants' queues. */
  private requeue(jobs: Pending[]): void {
    for (const p of [...jobs].reverse()) {
      if (this.closed) {
        p.resolve(SHUT_DOWN);
        continue;
      }
      const queue = this.waiting.get(p.tenantId);
      if (queue) queue.unshift(p);
      else this.waiting.set(p.tenantId, [p]);
    }
  }

  private send(slot: Slot, pending: Pending): void {
    slot.jobs.push(pending);
    this.owner.set(slot, pending.tenantId);
    if (slot.jobs.length === 1) {
      slot.worker.ref();
      slot.port.ref();
      this.arm(slot);
    }
    const wire = { id: pending.id, ...pending.job };
    const batch = this.outbox.get(slot);
    if (batch) batch.push(wire);
    else this.outbox.set(slot, [wire]);
  }

  /** The watchdog for the slot's running job, from now (it started no later than now). */
  private arm(slot: Slot): void {
    clearTimeout(slot.watchdog);
    const head = slot.jobs[0];
    if (!head) return;
    slot.headSince = Date.now();
    slot.watchdog = setTimeout(() => this.overdue(slot, head), head.job.timeoutMs + WATCHDOG_GRACE_MS);
  }

  private overdue(slot: Slot, head: Pending): void {
    // Answers that arrived while this event loop was busy come first: the job may have finished.
    for (let m = receiveMessageOnPort(slot.port); m; m = receiveMessageOnPort(slot.port))
      this.answered(slot, m.message as Answer);
    if (slot.jobs[0] !== head) return;
    // The thread did not answer in time (a native operation the deadline could not interrupt).
    this.terminated++;
    this.remove(slot);
    const [, ...rest] = slot.jobs.splice(0);
    head.resolve({ ok: false, error: `Code ran longer than ${head.job.timeoutMs} ms`, logs: [] });
    this.requeue(rest);
    slot.port.close();
    void slot.worker.terminate();
    this.dispatch();
  }

  private answered(slot: Slot, msg: Answer): void {
    const i = slot.jobs.findIndex((p) => p.id === msg.id);
    if (i < 0) return;
    const [pending] = slot.jobs.splice(i, 1);
    const { id: _id, ms, ...result } = msg;
    if (ms !== undefined) {
      if (this.lastMs.size >= MAX_TIMED_SOURCES && !this.lastMs.has(pending.job.source)) this.lastMs.clear();
      this.lastMs.set(pending.job.source, ms);
    }
    if (i === 0) this.arm(slot);
    if (!slot.jobs.length) {
      clearTimeout(slot.watchdog);
      slot.watchdog = undefined;
      slot.idleSince = Date.now();
      this.owner.delete(slot);
      slot.worker.unref();
      slot.port.unref();
    }
    pending.resolve(result.ok ? { ...result, value: JSON.parse(result.value as string) } : result);
    if (!this.closed) this.schedule();
  }

  /**
   * While tenants borrow threads, a spare per borrowed thread is started ahead of need; threads
   * beyond that end once idle for `spareIdleMs`.
   */
  private resize(): void {
    if (this.closed) return;
    const { borrowed } = this.census();
    const now = Date.now();
    if (borrowed > 0 && now - this.lostAt > 1000)
      while (this.slots.length < this.threads + borrowed) this.spawn();
    let soonest = Number.POSITIVE_INFINITY;
    for (const s of [...this.slots]) {
      if (this.slots.length <= this.threads + borrowed) break;
      if (s.jobs.length) continue;
      const left = s.idleSince + this.spareIdleMs - now;
      if (left <= 0) {
        this.remove(s);
        s.port.close();
        void s.worker.terminate();
      } else soonest = Math.min(soonest, left);
    }
    if (soonest !== Number.POSITIVE_INFINITY && !this.trimTimer) {
      this.trimTimer = setTimeout(() => {
        this.trimTimer = undefined;
        this.resize();
      }, soonest);
      this.trimTimer.unref();
    }
  }
}
