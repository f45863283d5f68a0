/**
 * Is this process ready for traffic? The database answers, and every migration this build ships
 * has been applied. One cheap query (the migration table's names), cached briefly so load
 * balancers and scrapers polling /readyz do not hammer the database.
 */
import type { Kysely } from 'kysely';
import { knownMigrations, pendingMigrations } from './migrate.ts';

export type Readiness =
  | { ready: true }
  | { ready: false; code: 'database_unreachable'; msg: string }
  | { ready: false; code: 'migrations_pending'; msg: string; pending: string[] };

export class ReadinessCheck {
  /** The migrations of this build: files on disk that cannot change while it runs. */
  private readonly known = knownMigrations();
  private last?: { at: number; result: Promise<Readiness> };

  constructor(
    private readonly db: Kysely<any>,
    private readonly opts: { cacheMs?: number; timeoutMs?: number } = {},
  ) {}

  /** The current answer; checks run at most once per `cacheMs` (default 1000), callers share one. */
  check(): Promise<Readiness> {
    const at = performance.now();
    if (this.last && at - this.last.at < (this.opts.cacheMs ?? 1000)) return this.last.result;
    const result = this.run();
    this.last = { at, result };
    return result;
  }

  private async run(): Promise<Readiness> {
    let pending: string[];
    try {
      pending = await withTimeout(pendingMigrations(this.db, this.known), this.opts.timeoutMs ?? 2000);
    } catch {
      return { ready: false, code: 'database_unreachable', msg: 'The database is not reachable' };
    }
    if (pending.length)
      return {
        ready: false,
        code: 'migrations_pending',
        msg: `Migrations pending: ${pending.join(', ')}`,
        pending,
      };
    return { ready: true };
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('timeout')), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}
