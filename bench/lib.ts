/**
 * Shared by the benchmarks: start Hookflow as a child process on a fresh database (a temporary
 * PGlite DATA_DIR, or a new database on DATABASE_URL's server), start the helper processes (load
 * generator, receiver, bare server), talk to Hookflow's API.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
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

/** The same order event with a `sent_at` stamped by the load generator at send time (end-to-end latency). */
export const STAMPED_BODY = JSON.stringify({
  event: 'order.created',
  sent_at: 0,
  order: { id: 'ord_0001', total: 129.5, currency: 'EUR', items: [{ sku: 'SKU-1', qty: 2, price: 64.75 }] },
  customer: { id: 'cus_42', email: 'someone@example.com', name: 'Some One' },
  padding: 'x'.repeat(66),
}).replace('"sent_at":0', '"sent_at":__SENT_AT__');

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
  /** From spawning the process to the first `/healthz` 200, ms. */
  healthyAfterMs: number;
  /** Resident memory of the process with its children (npm, when started through `npm start`), MB. */
  rssMb(): number;
  databaseUrl?: string;
  label: string;
  api(method: string, p: string, body?: unknown): Promise<any>;
  /** CPU time the process has used so far (user + system, ms; Linux /proc), or NaN elsewhere. */
  cpuMs(): number;
  /** A direct connection when on PostgreSQL (for audits), else undefined. */
  pg(): Promise<pg.Client | undefined>;
  stop(): Promise<void>;
};

export function machine(): string {
  return `${os.cpus().length} cores (${os.cpus()[0]?.model?.trim()}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
}

/** user + system CPU time of a process in ms, from /proc/<pid>/stat (clock ticks of 10 ms). */
export function processCpuMs(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

/** Resident memory of a process and all its descendants, in MB (Linux /proc), or NaN elsewhere. */
export function processTreeRssMb(pid: number | undefined): number {
  if (!pid) return Number.NaN;
  let total = 0;
  for (const p of processTree(pid)) {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      if (m) total += Number(m[1]);
    } catch {}
  }
  return total ? total / 1024 : Number.NaN;
}

/** A process and its descendants, from the parent pids in /proc/<pid>/stat. */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        const list = children.get(ppid) ?? [];
        list.push(Number(entry));
        children.set(ppid, list);
      } catch {}
    }
  } catch {
    return [pid];
  }
  const out: number[] = [];
  const visit = (p: number) => {
    out.push(p);
    for (const c of children.get(p) ?? []) visit(c);
  };
  visit(pid);
  return out;
}

/** CPU time of every local `postgres` process (the database server's share of a run), in ms. */
export function postgresCpuMs(): number {
  let total = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres') total += processCpuMs(Number(pid));
    } catch {}
  }
  return total;
}

/** A TypeScript helper of the bench as its own process; resolves with the JSON of its first stdout line. */
export type Helper<T> = { info: T; child: ChildProcess; stop(): Promise<void> };

export async function startHelper<T>(file: string, env: Record<string, string> = {}): Promise<Helper<T>> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'bench', file)], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const info = await firstJsonLine<T>(child, file);
  return {
    info,
    child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

function firstJsonLine<T>(child: ChildProcess, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (c: Buffer) => {
      buf += c.toString('utf8');
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        child.stdout!.off('data', onData);
        try {
          resolve(JSON.parse(buf.slice(0, nl)));
        } catch (err) {
          reject(err);
        }
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${what} exited with code ${code}`)));
  });
}

/** Runs one load job in a separate load-generator process and returns its result. */
export async function runLoad(
  job: import('./loadgen.ts').LoadJob,
): Promise<import('./loadgen.ts').LoadResult> {
  const h = await startHelper<import('./loadgen.ts').LoadResult>('loadgen.ts', {
    BENCH_LOAD: JSON.stringify(job),
  });
  return h.info;
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

/** A fixed master key, so several processes on one database share it. */
const BENCH_SECRET_KEY = Buffer.alloc(32, 7).toString('base64');

export async function startHookflow(
  env: Record<string, string> = {},
  prepared?: PreparedStore,
  opts: {
    role?: 'all' | 'api' | 'worker';
    ownsStore?: boolean;
    /** Start it as the README says, `npm start` (npm's own process included in `rssMb`). */
    viaNpm?: boolean;
    /** Also the process's stdout/stderr go nowhere (a measurement that prints its own figures). */
    quiet?: boolean;
  } = {},
): Promise<Hookflow> {
  const store = prepared ?? (await prepareStore());
  const ownsStore = opts.ownsStore ?? !prepared;
  const { dataDir, databaseUrl } = store;
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  // BENCH_PROFILE=dir writes a V8 CPU profile of the server to that directory.
  const profile = process.env.BENCH_PROFILE
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`]
    : [];
  const startedAt = Date.now();
  const role = opts.role ?? 'all';
  const [command, args] = opts.viaNpm
    ? ['npm', ['start', '--silent', '--', '--role', role]]
    : [process.execPath, [...profile, path.join(root, 'bin/hookflow.js'), 'start', '--role', role]];
  const child: ChildProcess = spawn(command, args, {
    cwd: root,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      HOOKFLOW_BOOTSTRAP_KEY: BENCH_KEY,
      HOOKFLOW_SECRET_KEY: BENCH_SECRET_KEY,
      HOOKFLOW_ALLOW_PRIVATE_TARGETS: '127.0.0.1/32',
      DATABASE_URL: databaseUrl ?? '',
      ...env,
    },
    stdio: ['ignore', opts.quiet ? 'ignore' : 'inherit', 'inherit'],
  });
  let healthyAfterMs = Number.NaN;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) {
        healthyAfterMs = Date.now() - startedAt;
        break;
      }
    } catch {}
    if (child.exitCode !== null) throw new Error(`Hookflow exited with code ${child.exitCode}`);
    if (i > 600) throw new Error('Hookflow did not answer /healthz');
    await new Promise((r) => setTimeout(r, 50));
  }
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${base}/readyz`)).ok) break;
    } catch {}
    if (child.exitCode !== null) throw new Error(`Hookflow exited with code ${child.exitCode}`);
    if (i > 300) throw new Error('Hookflow did not become ready');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    base,
    healthyAfterMs,
    rssMb: () => processTreeRssMb(child.pid),
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
    cpuMs: () => processCpuMs(child.pid),
    async pg() {
      if (!databaseUrl) return undefined;
      const c = new pg.Client({ connectionString: databaseUrl });
      await c.connect();
      return c;
    },
    async stop() {
      if (child.exitCode === null) {
        // npm does not pass SIGTERM on to the shell and node below it: signal the whole tree.
        const tree = opts.viaNpm ? processTree(child.pid!) : [child.pid!];
        const exited = new Promise((r) => child.once('exit', r));
        for (const pid of tree.reverse()) {
          try {
            process.kill(pid, 'SIGTERM');
          } catch {}
        }
        await exited;
        for (const pid of tree) {
          for (let i = 0; i < 400; i++) {
            try {
              process.kill(pid, 0);
            } catch {
              break;
            }
            await new Promise((r) => setTimeout(r, 100));
          }
        }
      }
      if (ownsStore) await store.drop();
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
