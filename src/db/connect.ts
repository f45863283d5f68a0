/**
 * Opens the database: PostgreSQL when a URL is given, otherwise embedded PostgreSQL (PGlite) in
 * DATA_DIR. Both are reached through one pg.Pool and one Kysely dialect, so every query in the
 * code base is the same SQL for both.
 */
import { execFile } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import { createPgConfig } from '@electric-sql/pglite/node-postgres';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { preparingPool } from './prepared.ts';
import type { DB } from './schema.ts';

export type Listener = (payload: string) => void;

export type Database = {
  kind: 'pglite' | 'postgres';
  db: Kysely<DB>;
  pool: pg.Pool;
  /**
   * Subscribes to a NOTIFY channel. `onReset` is called when the subscription had to be
   * re-established (notifications may have been missed in between): drop caches then.
   */
  listen(channel: string, onPayload: Listener, onReset?: () => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
};

export type OpenOptions = {
  databaseUrl?: string;
  /** Directory for the embedded database and its lockfile. `memory://` for an in-memory one (tests). */
  dataDir: string;
  poolSize?: number;
  onError?: (err: Error) => void;
};

export class DataDirLockedError extends Error {}

export async function openDatabase(opts: OpenOptions): Promise<Database> {
  return opts.databaseUrl ? openPostgres(opts.databaseUrl, opts) : openPglite(opts.dataDir, opts);
}

async function openPostgres(url: string, opts: OpenOptions): Promise<Database> {
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.poolSize ?? 10,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 10_000,
  });
  // A client losing its connection (database restart) must not crash the process. The pool
  // listens on idle clients only; a checked-out client between two queries (inside a transaction,
  // say) emits 'error' with nobody listening, which would throw. With a listener of its own the
  // client is just marked broken: its next query fails and the pool discards it on release.
  pool.on('error', (err) => opts.onError?.(err));
  pool.on('connect', (client) => client.on('error', (err) => opts.onError?.(err)));
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  await pool.query('select 1');

  const subs = new Map<string, Set<{ onPayload: Listener; onReset?: () => void }>>();
  let client: pg.Client | undefined;
  let closed = false;
  let connecting: Promise<void> | undefined;

  const connectListener = async (): Promise<void> => {
    const c = new pg.Client({ connectionString: url });
    c.on('notification', (msg) => {
      for (const s of subs.get(msg.channel) ?? []) s.onPayload(msg.payload ?? '');
    });
    c.on('error', (err) => {
      opts.onError?.(err);
      if (client === c) {
        client = undefined;
        void reconnect();
      }
    });
    c.on('end', () => {
      if (client === c && !closed) {
        client = undefined;
        void reconnect();
      }
    });
    try {
      await c.connect();
      for (const ch of subs.keys()) await c.query(`LISTEN ${pg.escapeIdentifier(ch)}`);
    } catch (err) {
      // Half set up (say, the database went away between connect and LISTEN): not kept, not leaked.
      await c.end().catch(() => {});
      throw err;
    }
    client = c;
  };
  const reconnect = async (): Promise<void> => {
    if (closed || connecting) return;
    let delay = 200;
    connecting = (async () => {
      while (!closed) {
        try {
          await connectListener();
          for (const set of subs.values()) for (const s of set) s.onReset?.();
          return;
        } catch (err) {
          opts.onError?.(err as Error);
          await new Promise((r) => setTimeout(r, delay).unref());
          delay = Math.min(delay * 2, 5_000);
        }
      }
    })().finally(() => {
      connecting = undefined;
    });
    await connecting;
  };

  return {
    kind: 'postgres',
    db,
    pool,
    async listen(channel, onPayload, onReset) {
      const entry = { onPayload, onReset };
      const isNew = !subs.has(channel);
      if (isNew) subs.set(channel, new Set());
      const set = subs.get(channel)!;
      set.add(entry);
      if (!client && !connecting) await connectListener();
      else if (connecting) await connecting;
      else if (isNew) await client!.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      return async () => {
        set.delete(entry);
        if (set.size === 0) {
          subs.delete(channel);
          await client?.query(`UNLISTEN ${pg.escapeIdentifier(channel)}`).catch(() => {});
        }
      };
    },
    async close() {
      closed = true;
      await client?.end().catch(() => {});
      await db.destroy();
    },
  };
}

async function openPglite(dataDir: string, _opts: OpenOptions): Promise<Database> {
  const memory = dataDir.startsWith('memory://');
  let releaseLock = () => {};
  let dir = dataDir;
  if (!memory) {
    mkdirSync(dataDir, { recursive: true });
    releaseLock = acquireLock(path.join(dataDir, 'hookflow.lock'));
    dir = path.join(dataDir, 'pglite');
  }
  let pglite: PGlite;
  try {
    if (!memory) await createPgliteCluster(dir);
    pglite = new PGlite(dir, { startParams: PGLITE_START_PARAMS });
    await pglite.waitReady;
  } catch (err) {
    releaseLock();
    throw err;
  }
  const pool = new pg.Pool(createPgConfig(pglite));
  const db = new Kysely<DB>({
    dialect: new PostgresDialect({ pool: preparingPool(pool) }),
  });
  return {
    kind: 'pglite',
    db,
    pool,
    async listen(channel, onPayload) {
      const unsub = await pglite.listen(channel, onPayload);
      return async () => {
        await unsub();
      };
    },
    async close() {
      await db.destroy();
      await pglite.close();
      releaseLock();
    },
  };
}

/**
 * The embedded PostgreSQL keeps its shared buffers inside the WebAssembly heap, and that heap never
 * shrinks: PGlite's default of 128 MB is 128 MB of resident memory for good once the buffers have
 * been touched. 16 MB keeps an idle Hookflow under 400 MB; the host's page cache still holds the
 * data files, so reads that miss the buffers cost a copy, not a disk read (bench/RESULTS.md has the
 * figures with both settings).
 */
export const PGLITE_SHARED_BUFFERS = '16MB';
const PGLITE_START_PARAMS = [...PGlite.defaultStartParams, '-c', `shared_buffers=${PGLITE_SHARED_BUFFERS}`];

const execFileAsync = promisify(execFile);

/**
 * Creates the embedded cluster (initdb) when `dir` holds none — in a short-lived child process.
 * initdb inside the WebAssembly heap grows it to ~800 MB, and a heap never shrinks: done in this
 * process, the first start would idle at ~900 MB for its whole life; done in a child that exits,
 * the memory goes back to the system and this process opens the finished cluster at ~300 MB.
 * The child builds the cluster beside `dir` and renames it into place, so a start killed during
 * initdb leaves no half-made cluster behind (the next start clears it away and builds again).
 * The caller holds DATA_DIR's lock.
 */
export async function createPgliteCluster(dir: string): Promise<void> {
  if (existsSync(path.join(dir, 'PG_VERSION'))) return;
  const building = `${dir}.initdb-${process.pid}`;
  const pgliteUrl = pathToFileURL(createRequire(import.meta.url).resolve('@electric-sql/pglite')).href;
  const script = `const { PGlite } = await import(${JSON.stringify(pgliteUrl)});
const db = new PGlite(process.argv[1]);
await db.waitReady;
await db.close();`;
  try {
    // What a start killed during initdb left behind (the caller holds DATA_DIR's lock: no other
    // process is building here now).
    const parent = path.dirname(dir);
    const prefix = `${path.basename(dir)}.initdb-`;
    if (existsSync(parent))
      for (const name of readdirSync(parent))
        if (name.startsWith(prefix)) rmSync(path.join(parent, name), { recursive: true, force: true });
    await execFileAsync(process.execPath, ['--input-type=module', '-e', script, building], {
      timeout: 120_000,
      maxBuffer: 4 * 1024 * 1024,
    });
    rmSync(dir, { recursive: true, force: true });
    renameSync(building, dir);
  } catch (err) {
    try {
      rmSync(building, { recursive: true, force: true });
    } catch {
      // Nothing to clear where the folder could not be made either.
    }
    const e = err as Error & { stderr?: string };
    throw new Error(`Could not create the embedded database in ${dir}: ${(e.stderr || e.message).trim()}`);
  }
}

/**
 * PGlite is one process's database: a second Hookflow on the same DATA_DIR would corrupt it.
 * The lockfile holds our pid; a lock left by a dead process is taken over.
 */
const locksHeld = new Set<string>();

function acquireLock(file: string): () => void {
  if (locksHeld.has(file))
    throw new DataDirLockedError(`${path.dirname(file)} is already open in this process.`);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      locksHeld.add(file);
      return () => {
        locksHeld.delete(file);
        rmSync(file, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(readFileSync(file, 'utf8').trim());
      if (pid && pid !== process.pid && isAlive(pid))
        throw new DataDirLockedError(
          `${path.dirname(file)} is in use by another Hookflow process (pid ${pid}). The embedded database serves one process; stop the other one, use another DATA_DIR, or set DATABASE_URL to share PostgreSQL.`,
        );
      rmSync(file, { force: true });
    }
  }
  throw new DataDirLockedError(`Could not lock ${file}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
