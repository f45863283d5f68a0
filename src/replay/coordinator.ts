/**
 * The replay coordinator (docs/api.md §3.14), run beside each run worker: moves running replays on
 * — compares the items whose replay run ended, starts the next replay runs while the tenant has
 * fewer than `window` in flight (a replay of a thousand runs never crowds out the tenant's own
 * traffic), and marks a replay done. Everything it knows is in the database (a crash loses nothing;
 * another process goes on); woken by NOTIFY on new replays, by the run worker when a replay run
 * ends, and by a poll.
 */
import { Wakeable } from '../core/wakeable.ts';
import type { Database } from '../db/connect.ts';
import { isDatabaseUnavailable } from '../db/errors.ts';
import { compareRuns, type RunOutcome } from './diff.ts';
import { REPLAYS_CHANNEL, runningReplays, stepReplay } from './store.ts';

/** Replay runs of one tenant in flight at once (all its replays together). */
export const REPLAY_WINDOW = 20;
/** At most one step per this interval (ms): a replay's window turns over at most 10 times a second. */
export const STEP_INTERVAL_MS = 100;
/** Replays of one tenant running at once; a further one is refused (409) until one is done. */
export const MAX_RUNNING_REPLAYS = 3;

type Log = { warn(obj: unknown, msg?: string): void; error(obj: unknown, msg?: string): void };

/** An item's verdict: same (no differences), failed (the replay run failed), different. */
export function verdict(
  original: RunOutcome | null,
  replay: RunOutcome,
): { status: 'same' | 'different' | 'failed'; differences: unknown[] } {
  if (!original)
    return {
      status: 'failed',
      differences: [{ path: 'run', original: null, replay: 'the original run no longer exists' }],
    };
  const { differences, more } = compareRuns(original, replay);
  const list = more
    ? [...differences, { path: '…', original: null, replay: 'more differences not shown' }]
    : differences;
  if (differences.length === 0) return { status: 'same', differences: [] };
  return { status: replay.status === 'succeeded' ? 'different' : 'failed', differences: list };
}

export class ReplayCoordinator {
  private readonly waiting = new Wakeable();
  private stopped = true;
  private loop?: Promise<void>;
  private unlisten?: () => Promise<void>;

  constructor(
    private readonly opts: {
      database: Database;
      log: Log;
      now?: () => number;
      window?: number;
      pollMs?: number;
      minIntervalMs?: number;
    },
  ) {}

  async start(): Promise<void> {
    this.stopped = false;
    this.unlisten = await this.opts.database.listen(
      REPLAYS_CHANNEL,
      () => this.poke(),
      () => this.poke(),
    );
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.poke();
    await this.loop;
    await this.unlisten?.();
  }

  /** Look now (a replay run ended, a replay was created). */
  poke(): void {
    this.waiting.poke();
  }

  /** One round over the running replays; whether any moved. */
  async step(): Promise<boolean> {
    const now = new Date((this.opts.now ?? Date.now)());
    let moved = false;
    for (const r of await runningReplays(this.opts.database)) {
      if (
        await stepReplay(this.opts.database, r.tenant_id, r.id, {
          window: this.opts.window ?? REPLAY_WINDOW,
          now,
          compare: (o, x) => verdict(o as RunOutcome | null, x as RunOutcome),
        })
      )
        moved = true;
    }
    return moved;
  }

  private async run(): Promise<void> {
    let backoff = 100;
    while (!this.stopped) {
      this.waiting.arm();
      try {
        await this.step();
        backoff = 100;
      } catch (err) {
        if (this.stopped) break;
        this.opts.log[isDatabaseUnavailable(err) ? 'warn' : 'error'](
          { err: (err as Error).message },
          'moving replays on failed; retrying',
        );
        await this.waiting.sleep(backoff);
        backoff = Math.min(backoff * 2, 5000);
        continue;
      }
      await this.waiting.sleep(this.opts.pollMs ?? 1000);
      // Replay runs that end together are compared (and their successors started) in one step: a
      // step is a transaction, and on PGlite every other query of the process waits for it.
      await new Promise((r) => setTimeout(r, this.opts.minIntervalMs ?? STEP_INTERVAL_MS).unref());
    }
  }
}
