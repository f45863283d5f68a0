/**
 * Shared by the benchmarks: start Hookflow as a child process on a fresh database (a temporary
 * PGlite DATA_DIR, or a new database on DATABASE_URL's server), talk to its API, read its runs.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** A ~300-byte order event, the body every benchmark sends. */
export const SAMPLE_BODY = JSON.stringify({
  event: 'order.created',
  order: { id: 'ord_0001', total: 129.5, currency: 'EUR', items: [{ sku: 'SKU-1', qty: 2, price: 64.75 }] },
  customer: { id: 'cus_42', email: 'someone@example.com', name: 'Some One' },
  padding: 'x'.repeat(90),
});

export const BENCH_KEY = 'hf_bench_bootstrap_key_0123456789abcdef';

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

export type Hookflow = {
  base: string;
  databaseUrl?: string;
  label: string;
  api(method: string, p: string, body?: unknown): Promise<any>;
  /** A direct connection when on PostgreSQL (for audits), else undefined. */
  pg(): Promise<pg.Client | undefined>;
  stop(): Promise<void>;
};

export function machine(): string {
  return `${os.cpus().length} cores (${os.cpus()[0]?.model}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
}

export type PreparedStore = { dataDir: string; databaseUrl?: string; drop(): Promise<void> };

/** A fresh, empty place for Hookflow's data: a temporary DATA_DIR, and a new database on DATABASE_URL's server. */
export async function prepareStore(): Promise<PreparedStore> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'hookflow-bench-'));
  let databaseUrl = process.env.DATABASE_URL || undefined;
  let dropDb: (() => Promise<void>) | undefined;
  if (databaseUrl) {
    const name = `hookflow_bench_${Date.now()}`;
    const admin = new pg.Client({ connectionString: databaseUrl });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    const adminUrl = databaseUrl;
    const u = new URL(databaseUrl);
    u.pathname = `/${name}`;
    databaseUrl = u.toString();
    dropDb = async () => {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    };
  }
  return {
    dataDir,
    databaseUrl,
    async drop() {
      await dropDb?.();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function startHookflow(
  env: Record<string, string> = {},
  prepared?: PreparedStore,
): Promise<Hookflow> {
  const store = prepared ?? (await prepareStore());
  const { dataDir, databaseUrl } = store;
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  // BENCH_PROFILE=dir writes a V8 CPU profile of the server to that directory.
  const profile = process.env.BENCH_PROFILE
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`]
    : [];
  const child: ChildProcess = spawn(
    process.execPath,
    [...profile, path.join(root, 'bin/hookflow.js'), 'start'],
    {
      cwd: root,
      env: {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        LOG_LEVEL: 'warn',
        HOOKFLOW_BOOTSTRAP_KEY: BENCH_KEY,
        DATABASE_URL: databaseUrl ?? '',
        ...env,
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${base}/readyz`)).ok) break;
    } catch {}
    if (i > 300) throw new Error('Hookflow did not become ready');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    base,
    databaseUrl,
    label: databaseUrl ? 'PostgreSQL' : 'PGlite',
    async api(method, p, body) {
      const res = await fetch(base + p, {
        method,
        headers: { authorization: `Bearer ${BENCH_KEY}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return res.json();
    },
    async pg() {
      if (!databaseUrl) return undefined;
      const c = new pg.Client({ connectionString: databaseUrl });
      await c.connect();
      return c;
    },
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      await store.drop();
    },
  };
}

/** Every run of a flow through the API, page by page (works on both databases). */
export async function listAllRuns(h: Hookflow, flowId: string): Promise<any[]> {
  const out: any[] = [];
  let cursor: string | null = null;
  do {
    const page: any = await h.api(
      'GET',
      `/api/v1/runs?flow_id=${flowId}&limit=500${cursor ? `&cursor=${cursor}` : ''}`,
    );
    out.push(...page.data);
    cursor = page.next_cursor;
  } while (cursor);
  return out;
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
