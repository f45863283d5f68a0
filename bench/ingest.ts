/**
 * `npm run bench:ingest` — durable ingest throughput.
 *
 * Starts Hookflow as a child process (embedded PGlite in a temporary DATA_DIR, or DATABASE_URL when
 * set), creates an `ack`-mode flow, then drives its hook URL with autocannon (many concurrent
 * keep-alive connections, a 300-byte JSON body) from this process. Prints req/s, p50/p99 and errors,
 * then audits that every 2xx has its run in the database.
 *
 * Options (env): BENCH_CONNECTIONS (50), BENCH_SECONDS (10), BENCH_PIPELINING (1), BENCH_PROFILE (a
 * directory for a V8 CPU profile of the server).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const pipelining = Number(process.env.BENCH_PIPELINING ?? 1);
const KEY = 'hf_bench_bootstrap_key_0123456789abcdef';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

async function main() {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'hookflow-bench-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  let databaseUrl = process.env.DATABASE_URL;
  let dropDb: (() => Promise<void>) | undefined;
  if (databaseUrl) {
    // A fresh database for the run, so the audit counts only this run's rows.
    const name = `hookflow_bench_${Date.now()}`;
    const admin = new pg.Client({ connectionString: databaseUrl });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    const u = new URL(databaseUrl);
    u.pathname = `/${name}`;
    const adminUrl = databaseUrl;
    databaseUrl = u.toString();
    dropDb = async () => {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    };
  }
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
        HOOKFLOW_BOOTSTRAP_KEY: KEY,
        ...(databaseUrl ? { DATABASE_URL: databaseUrl } : { DATABASE_URL: '' }),
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  try {
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`${base}/readyz`)).ok) break;
      } catch {}
      if (i > 200) throw new Error('Hookflow did not become ready');
      await new Promise((r) => setTimeout(r, 100));
    }
    const api = async (method: string, p: string, body?: unknown) => {
      const res = await fetch(base + p, {
        method,
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        body: body ? JSON.stringify(body) : undefined,
      });
      return res.json() as Promise<any>;
    };
    const flow = await api('POST', '/api/v1/flows', {
      name: 'bench ingest',
      nodes: [{ id: 'webhook_1', type: 'webhook', config: { methods: ['POST'], response: { mode: 'ack' } } }],
      edges: [],
    });
    const hookUrl: string = flow.webhooks[0].url;
    const body = JSON.stringify({
      event: 'order.created',
      order: {
        id: 'ord_0001',
        total: 129.5,
        currency: 'EUR',
        items: [{ sku: 'SKU-1', qty: 2, price: 64.75 }],
      },
      customer: { id: 'cus_42', email: 'someone@example.com', name: 'Some One' },
      padding: 'x'.repeat(90),
    });

    // Warm-up (JIT, caches, pool).
    await autocannon({
      url: hookUrl,
      method: 'POST',
      connections: 10,
      duration: 2,
      body,
      headers: { 'content-type': 'application/json' },
    });
    const before = await api('GET', `/api/v1/runs?flow_id=${flow.id}&limit=1`);
    void before;

    const result = await autocannon({
      url: hookUrl,
      method: 'POST',
      connections,
      pipelining,
      duration: seconds,
      body,
      headers: { 'content-type': 'application/json' },
    });
    const ok = result['2xx'];
    const non2xx = result.non2xx;
    console.log('');
    console.log(
      `Hookflow durable ingest — ${databaseUrl ? 'PostgreSQL' : 'PGlite'}, ${connections} connections, ${seconds}s, ${body.length}-byte JSON`,
    );
    console.log(
      `  machine: ${os.cpus().length} cores (${os.cpus()[0]?.model}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
    );
    console.log(`  req/s (mean):   ${result.requests.average.toFixed(0)}`);
    console.log(`  latency p50:    ${result.latency.p50} ms`);
    console.log(`  latency p99:    ${result.latency.p99} ms`);
    console.log(
      `  2xx: ${ok}   non-2xx: ${non2xx}   errors: ${result.errors}   timeouts: ${result.timeouts}`,
    );

    // Audit: every 2xx answered must be a stored run (plus the warm-up's).
    let stored = 0;
    if (databaseUrl) {
      const c = new pg.Client({ connectionString: databaseUrl });
      await c.connect();
      stored = Number((await c.query('select count(*) from runs')).rows[0].count);
      await c.end();
    } else {
      let cursor: string | null = null;
      do {
        const page: any = await api(
          'GET',
          `/api/v1/runs?flow_id=${flow.id}&limit=500${cursor ? `&cursor=${cursor}` : ''}`,
        );
        stored += page.data.length;
        cursor = page.next_cursor;
      } while (cursor);
    }
    console.log(`  audit: ${stored} runs stored for ${ok} accepted in the measured phase (+ warm-up)`);
    if (stored < ok) {
      console.error('  AUDIT FAILED: fewer runs than 2xx answers');
      process.exitCode = 1;
    }
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await dropDb?.();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
