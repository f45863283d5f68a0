/**
 * Shared parts of the fault drills: Hookflow as a real child process (start, SIGKILL, SIGTERM,
 * restart on the same data), an API client for it, a load client that retries what never got an
 * answer, and a private PostgreSQL cluster that a drill may stop and start without touching the
 * machine's shared server.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../helpers/app.ts';
import type { TestDatabase } from '../helpers/db.ts';
import { eventually } from '../helpers/receiver.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BOOTSTRAP_KEY = 'hf_fault_drill_bootstrap_key_0123456789';
export const SECRET_KEY = Buffer.alloc(32, 5).toString('base64');

export type Exit = { code: number | null; signal: NodeJS.Signals | null };

/** One Hookflow child process after another on the same data and port. */
export class HookflowProcess {
  child?: ChildProcess;
  exited?: Promise<Exit>;
  starts = 0;
  stderr = '';

  private constructor(
    readonly port: number,
    private readonly env: Record<string, string>,
  ) {}

  static async create(opts: {
    db?: TestDatabase;
    databaseUrl?: string;
    dataDir: string;
    env?: Record<string, string>;
  }): Promise<HookflowProcess> {
    const databaseUrl = opts.databaseUrl ?? opts.db?.databaseUrl;
    return new HookflowProcess(await freePort(), {
      HOST: '127.0.0.1',
      DATA_DIR: opts.dataDir,
      LOG_LEVEL: 'error',
      HOOKFLOW_BOOTSTRAP_KEY: BOOTSTRAP_KEY,
      HOOKFLOW_SECRET_KEY: SECRET_KEY,
      HOOKFLOW_ALLOW_PRIVATE_TARGETS: '127.0.0.1/32',
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
      ...opts.env,
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts a process and waits until /readyz is green. */
  async start(): Promise<void> {
    if (this.running) throw new Error('already running');
    const child = spawn(process.execPath, [path.join(ROOT, 'bin/hookflow.js'), 'start'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, PORT: String(this.port), ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.starts++;
    this.child = child;
    // Logs (LOG_LEVEL=error: errors only) are kept, bounded, for failure messages, and echoed: an
    // error line from the product is news.
    const keep = (d: string) => {
      this.stderr = (this.stderr + d).slice(-20_000);
      process.stderr.write(d);
    };
    child.stdout!.setEncoding('utf8').on('data', keep);
    child.stderr!.setEncoding('utf8').on('data', keep);
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    let gone = false;
    void this.exited.then(() => {
      gone = true;
    });
    await eventually(
      async () => {
        if (gone) throw new Error(`hookflow exited during start-up:\n${this.stderr}`);
        return (await fetch(`${this.url}/readyz`, { signal: AbortSignal.timeout(2000) })).ok;
      },
      60_000,
      'hookflow ready',
    );
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<Exit> {
    if (!this.running) return (await this.exited) ?? { code: null, signal: null };
    this.child!.kill(signal);
    return this.exited!;
  }

  /** For afterAll: never throws, never waits long. */
  async dispose(): Promise<void> {
    if (this.running) {
      this.child!.kill('SIGKILL');
      await Promise.race([this.exited, new Promise((r) => setTimeout(r, 5000))]);
    }
  }

  async api<T = any>(method: string, p: string, body?: unknown): Promise<{ status: number; body: T }> {
    const res = await fetch(this.url + p, {
      method,
      headers: {
        authorization: `Bearer ${BOOTSTRAP_KEY}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  }

  /** Every run id of the default tenant, through the API's pages. */
  /** Deliveries not yet recorded as done, over every message (the messages API's summaries). */
  async pendingDeliveries(): Promise<number> {
    let pending = 0;
    let cursor: string | undefined;
    for (;;) {
      const q = new URLSearchParams({ limit: '500' });
      if (cursor) q.set('cursor', cursor);
      const r = await this.api('GET', `/api/v1/messages?${q}`);
      if (r.status !== 200) throw new Error(`listing messages: ${r.status} ${JSON.stringify(r.body)}`);
      for (const m of r.body.data) pending += Number(m.delivery_summary?.pending ?? 0);
      cursor = r.body.next_cursor ?? undefined;
      if (!cursor) return pending;
    }
  }

  async allRunIds(status?: string): Promise<string[]> {
    const ids: string[] = [];
    let cursor: string | undefined;
    for (;;) {
      const q = new URLSearchParams({ limit: '500' });
      if (status) q.set('status', status);
      if (cursor) q.set('cursor', cursor);
      const r = await this.api('GET', `/api/v1/runs?${q}`);
      if (r.status !== 200) throw new Error(`listing runs: ${r.status} ${JSON.stringify(r.body)}`);
      for (const run of r.body.data) ids.push(run.id);
      cursor = r.body.next_cursor ?? undefined;
      if (!cursor) return ids;
    }
  }
}

/** A flow triggered by a webhook (ack) that sets a var, with its completion to the default endpoint. */
export function drillFlow(name: string, extraNodes: any[] = []) {
  const nodes = [
    {
      id: 'webhook_1',
      type: 'webhook',
      config: { methods: ['POST'], idempotency: { header: 'Idempotency-Key', window_s: 86_400 } },
    },
    { id: 'set_1', type: 'set', config: { values: { 'vars.n': '${Webhook::Body.n}' } } },
    ...extraNodes,
  ];
  const edges = nodes.slice(1).map((n, i) => ({ from: nodes[i].id, to: n.id }));
  return { name, nodes, edges, settings: { send_to_default_webhook: true } };
}

export type Outcome = { n: number; status: number; runId?: string; code?: string; tries: number };

/**
 * Sends `count` webhooks (body `{"n": i}`) with `concurrency` requests at once. A request whose
 * connection failed, or that got a 5xx, is sent again (after a short pause) until it is answered
 * with something else or `deadlineMs` passes; requests with an even `n` carry an Idempotency-Key
 * so that their retries cannot create a second run.
 */
export async function sendLoad(opts: {
  url: () => string;
  count: number;
  concurrency: number;
  deadlineMs?: number;
  onAccepted?: (accepted: number) => void | Promise<void>;
  stop?: () => boolean;
}): Promise<{ outcomes: Outcome[]; connectionErrors: number; serverErrors: number }> {
  const outcomes: Outcome[] = [];
  let next = 0;
  let accepted = 0;
  let connectionErrors = 0;
  let serverErrors = 0;
  const deadline = Date.now() + (opts.deadlineMs ?? 240_000);
  const one = async (n: number): Promise<Outcome> => {
    for (let tries = 1; ; tries++) {
      if (Date.now() > deadline) return { n, status: 0, tries };
      try {
        const res = await fetch(opts.url(), {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(n % 2 === 0 ? { 'idempotency-key': `drill-${n}` } : {}),
          },
          body: JSON.stringify({ n }),
          signal: AbortSignal.timeout(20_000),
        });
        const text = await res.text();
        if (res.status >= 500) {
          serverErrors++;
        } else {
          const body = res.status < 300 ? JSON.parse(text) : undefined;
          return { n, status: res.status, runId: body?.run_id, tries };
        }
      } catch {
        connectionErrors++;
      }
      await new Promise((r) => setTimeout(r, 50 + Math.random() * 100));
    }
  };
  const workers = Array.from({ length: opts.concurrency }, async () => {
    while (next < opts.count && !opts.stop?.()) {
      const o = await one(next++);
      outcomes.push(o);
      if (o.status >= 200 && o.status < 300) {
        accepted++;
        await opts.onAccepted?.(accepted);
      }
    }
  });
  await Promise.all(workers);
  return { outcomes, connectionErrors, serverErrors };
}

/** What the receiver got, per run: the flow.completed deliveries with their webhook-ids. */
export function receiptsByRun(received: { headers: Record<string, unknown>; body: string }[]) {
  const byRun = new Map<string, Set<string>>();
  for (const r of received) {
    let payload: any;
    try {
      payload = JSON.parse(r.body);
    } catch {
      continue;
    }
    if (payload?.event_type !== 'flow.completed') continue;
    const runId = payload.current_context?.run_id as string;
    const set = byRun.get(runId) ?? new Set<string>();
    set.add(String(r.headers['webhook-id']));
    byRun.set(runId, set);
  }
  return byRun;
}

/** The bin directory of the newest installed PostgreSQL, or undefined. */
export function postgresBinDir(): string | undefined {
  try {
    const dir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
    if (existsSync(path.join(dir, 'initdb'))) return dir;
  } catch {}
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base)
    .filter((v) => existsSync(path.join(base, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length ? path.join(base, versions[0], 'bin') : undefined;
}

/**
 * A PostgreSQL cluster of this test's own (initdb into a temp dir, trust auth, 127.0.0.1 on a free
 * port), so a drill can stop and restart it. initdb refuses to run as root: when we are root the
 * cluster belongs to the `postgres` user and its commands run through runuser.
 */
export class PrivatePostgres {
  private constructor(
    readonly bin: string,
    readonly dir: string,
    readonly port: number,
  ) {}

  static async create(): Promise<PrivatePostgres> {
    const bin = postgresBinDir();
    if (!bin) throw new Error('no PostgreSQL installation found (initdb)');
    const dir = mkdtempSync(path.join(tmpdir(), 'hookflow-pg-'));
    const pg = new PrivatePostgres(bin, dir, await freePort());
    if (process.getuid?.() === 0) {
      const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
      chownSync(dir, uid, gid);
    }
    pg.run('initdb', ['-D', pg.dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync']);
    await pg.start();
    return pg;
  }

  get dataDir(): string {
    return path.join(this.dir, 'data');
  }

  url(database = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  private run(cmd: string, args: string[]): string {
    const file = path.join(this.bin, cmd);
    const [exe, argv] =
      process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', file, ...args]] : [file, args];
    return execFileSync(exe, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }

  async start(): Promise<void> {
    this.run('pg_ctl', [
      '-D',
      this.dataDir,
      '-l',
      path.join(this.dir, 'log'),
      '-w',
      '-o',
      `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
      'start',
    ]);
  }

  async stop(): Promise<void> {
    this.run('pg_ctl', ['-D', this.dataDir, '-m', 'fast', '-w', 'stop']);
  }

  /** Stops the cluster if it runs and removes its files; never throws. */
  async destroy(): Promise<void> {
    try {
      this.run('pg_ctl', ['-D', this.dataDir, '-m', 'immediate', '-w', 'stop']);
    } catch {}
    rmSync(this.dir, { recursive: true, force: true });
  }
}
