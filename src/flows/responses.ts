/**
 * Response mode "flow": the inbound request waits for its run's respond node (or the run's end).
 * The run may execute in another process, so the answer travels through the database: the worker
 * stores it and NOTIFYs `hookflow_responses`; waiters re-read the run on a notification, on a
 * same-process signal, and on a slow poll (in case a notification was missed).
 */
import type { Database } from '../db/connect.ts';
import type { RunResponse } from './engine.ts';
import { getRunOutcome, RESPONSES_CHANNEL } from './runsStore.ts';

const localListeners = new Set<(runId: string) => void>();

/** Tells waiters in this process at once (the NOTIFY follows for other processes). */
export function signalRunResponse(runId: string): void {
  for (const fn of localListeners) fn(runId);
}

export type WaitResult =
  | { kind: 'response'; response: RunResponse }
  | { kind: 'ended'; status: 'succeeded' | 'failed' | 'cancelled'; error: string | null }
  | { kind: 'timeout' };

export class ResponseWaiter {
  private waiters = new Map<string, Set<() => void>>();
  private unsubscribe?: () => Promise<void>;
  private readonly local = (runId: string) => this.wake(runId);

  constructor(
    private readonly database: Database,
    private readonly pollMs = 1000,
  ) {}

  async start(): Promise<void> {
    localListeners.add(this.local);
    this.unsubscribe = await this.database.listen(
      RESPONSES_CHANNEL,
      (runId) => this.wake(runId),
      () => {
        for (const id of this.waiters.keys()) this.wake(id);
      },
    );
  }

  async stop(): Promise<void> {
    localListeners.delete(this.local);
    await this.unsubscribe?.();
    for (const id of [...this.waiters.keys()]) this.wake(id);
  }

  private wake(runId: string): void {
    for (const fn of this.waiters.get(runId) ?? []) fn();
  }

  /**
   * Registers interest before the run exists (call before inserting it, so no answer can slip
   * past), then `wait()` resolves with the answer, the run's end, or a timeout.
   */
  register(
    tenantId: string,
    runId: string,
  ): { wait(timeoutMs: number): Promise<WaitResult>; cancel(): void } {
    let poke: () => void = () => {};
    let pending = false;
    const onWake = () => {
      pending = true;
      poke();
    };
    const set = this.waiters.get(runId) ?? new Set();
    set.add(onWake);
    this.waiters.set(runId, set);
    const cancel = () => {
      set.delete(onWake);
      if (set.size === 0) this.waiters.delete(runId);
    };
    const wait = async (timeoutMs: number): Promise<WaitResult> => {
      const deadline = Date.now() + timeoutMs;
      try {
        for (;;) {
          const outcome = await getRunOutcome(this.database.db, tenantId, runId);
          if (outcome?.response) return { kind: 'response', response: outcome.response as RunResponse };
          if (
            outcome &&
            (outcome.status === 'succeeded' || outcome.status === 'failed' || outcome.status === 'cancelled')
          )
            return { kind: 'ended', status: outcome.status, error: outcome.error };
          const left = deadline - Date.now();
          if (left <= 0) return { kind: 'timeout' };
          if (!pending)
            await new Promise<void>((resolve) => {
              const t = setTimeout(resolve, Math.min(left, this.pollMs));
              poke = () => {
                clearTimeout(t);
                resolve();
              };
            });
          pending = false;
          poke = () => {};
        }
      } finally {
        cancel();
      }
    };
    return { wait, cancel };
  }
}
