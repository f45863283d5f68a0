/**
 * JSON logs with request ids (docs/api.md §7.3): every request gets an id — the caller's X-Request-Id when
 * it is a sane token, a fresh one otherwise — echoed in the response and carried as `reqId` by the
 * request's log lines. Read from a real app's pino output, and from a real `hookflow start`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, startTestApp, type TestApp } from './helpers/app.ts';
import { createTestDatabase, type TestDatabase } from './helpers/db.ts';
import { eventually } from './helpers/receiver.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

type LogLine = Record<string, unknown> & { msg?: string; reqId?: string; level?: number };

/** A pino destination that keeps every line it is given, parsed. */
function captureLines(): { lines: LogLine[]; stream: Writable } {
  const lines: LogLine[] = [];
  let rest = '';
  const stream = new Writable({
    write(chunk, _enc, done) {
      const text = rest + chunk.toString('utf8');
      const parts = text.split('\n');
      rest = parts.pop() ?? '';
      for (const p of parts) if (p.trim()) lines.push(JSON.parse(p));
      done();
    },
  });
  return { lines, stream };
}

async function appLoggingTo(stream: Writable): Promise<TestApp> {
  const t = await startTestApp({ env: { LOG_LEVEL: 'debug' }, logger: { level: 'debug', stream } });
  cleanups.push(() => t.close());
  return t;
}

describe('request ids', () => {
  it('a sane X-Request-Id is echoed and every log line of that request carries it as reqId', async () => {
    const { lines, stream } = captureLines();
    const t = await appLoggingTo(stream);
    const id = 'trace-2f1c.9:ab_CD';
    const res = await fetch(`${t.url}/hooks/default/flw_nope`, {
      method: 'POST',
      headers: { 'x-request-id': id },
      body: '{}',
    });
    expect(res.status).toBe(404);
    expect(res.headers.get('x-request-id')).toBe(id);
    const mine = await eventually(
      () => {
        const l = lines.filter((l) => l.reqId === id);
        return l.some((x) => x.msg === 'request completed') ? l : undefined;
      },
      5000,
      'the request log lines',
    );
    expect(mine.map((l) => l.msg)).toEqual(expect.arrayContaining(['incoming request', 'request completed']));
    expect(mine.find((l) => l.msg === 'request completed')).toMatchObject({ res: { statusCode: 404 } });
    // Every line that is about a request says which one.
    for (const l of lines) if ('req' in l || 'res' in l) expect(l.reqId).toEqual(expect.any(String));
  });

  it('an unusable X-Request-Id (too long, unsafe characters) is replaced by a generated one, also logged', async () => {
    const { lines, stream } = captureLines();
    const t = await appLoggingTo(stream);
    const seen = new Set<string>();
    for (const given of ['x'.repeat(129), 'has space', '<script>', 'quote"d', '']) {
      const res = await fetch(`${t.url}/healthz`, { headers: given ? { 'x-request-id': given } : {} });
      expect(res.status).toBe(200);
      const echoed = res.headers.get('x-request-id')!;
      expect(echoed).not.toBe(given);
      expect(echoed).toMatch(/^[0-9a-f-]{36}$/);
      seen.add(echoed);
      await eventually(() => lines.some((l) => l.reqId === echoed && l.msg === 'request completed'));
    }
    expect(seen.size).toBe(5);
    // 128 characters is still fine.
    const long = 'y'.repeat(128);
    const res = await fetch(`${t.url}/healthz`, { headers: { 'x-request-id': long } });
    expect(res.headers.get('x-request-id')).toBe(long);
  });

  it('the id is on error answers too (unknown route, bad JSON)', async () => {
    const { stream } = captureLines();
    const t = await appLoggingTo(stream);
    const notFound = await fetch(`${t.url}/api/nowhere`, { headers: { 'x-request-id': 'abc-404' } });
    expect(notFound.status).toBe(404);
    expect(notFound.headers.get('x-request-id')).toBe('abc-404');
    const bad = await fetch(`${t.url}/api/v1/flows`, {
      method: 'POST',
      headers: {
        'x-request-id': 'abc-400',
        authorization: `Bearer ${t.adminKey}`,
        'content-type': 'application/json',
      },
      body: '{',
    });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('x-request-id')).toBe('abc-400');
    expect(await bad.json()).toMatchObject({ code: 'invalid_json' });
  });
});

describe('hookflow start writes JSON log lines', () => {
  let child: ChildProcess | undefined;
  let db: TestDatabase | undefined;
  afterEach(async () => {
    child?.kill('SIGKILL');
    await db?.drop();
  });

  it('one JSON object per line on stdout; a request line carries the request id', async () => {
    const port = await freePort();
    // PostgreSQL when the suite runs on it, else the child's own embedded database.
    db = process.env.TEST_DATABASE_URL ? await createTestDatabase() : undefined;
    await db?.close();
    const dataDir = mkdtempSync(path.join(tmpdir(), 'hookflow-logs-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const out: string[] = [];
    child = spawn(process.execPath, [path.join(root, 'bin/hookflow.js'), 'start'], {
      cwd: root,
      env: {
        PATH: process.env.PATH,
        PORT: String(port),
        HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        LOG_LEVEL: 'debug',
        HOOKFLOW_BOOTSTRAP_KEY: 'hf_logs_test_bootstrap_key_0123456789',
        ...(db?.databaseUrl ? { DATABASE_URL: db.databaseUrl } : {}),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let rest = '';
    child.stdout!.on('data', (c: Buffer) => {
      const parts = (rest + c.toString('utf8')).split('\n');
      rest = parts.pop() ?? '';
      out.push(...parts.filter((p) => p.trim()));
    });
    await eventually(
      async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok,
      30_000,
      'the process is ready',
    );
    const res = await fetch(`http://127.0.0.1:${port}/healthz`, {
      headers: { 'x-request-id': 'from-the-lb-42' },
    });
    expect(res.headers.get('x-request-id')).toBe('from-the-lb-42');
    const line = await eventually(
      () =>
        out
          .map((l) => JSON.parse(l) as LogLine)
          .find((l) => l.reqId === 'from-the-lb-42' && l.msg === 'request completed'),
      10_000,
      'the request log line',
    );
    expect(line).toMatchObject({ level: 30, res: { statusCode: 200 } });
    // Every line is JSON (a non-JSON line would throw here), and the start is announced.
    expect(out.map((l) => JSON.parse(l) as LogLine).some((l) => l.msg === 'Hookflow is running')).toBe(true);
  }, 60_000);
});
