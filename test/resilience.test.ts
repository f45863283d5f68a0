/**
 * The fixes the fault drills (test/faults) found, each pinned down here where it is fast: a commit
 * that fails answers 503 in the error shape and stores nothing; the API takes UTF-8 JSON only; a
 * body that trickles in is cut off with a 408; oversized header blocks get a 431 in the error
 * shape while many small headers are all kept; a pooled PostgreSQL connection killed while
 * checked out does not crash the process.
 */
import { connect } from 'node:net';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/connect.ts';
import { startTestApp, type TestApp, webhookFlow } from './helpers/app.ts';
import { createTestDatabase, usingPostgres } from './helpers/db.ts';
import { eventually } from './helpers/receiver.ts';

/** Writes raw bytes on a fresh connection; resolves with everything the server sent back. */
function rawExchange(url: string, head: string, opts: { body?: Buffer; dripMs?: number } = {}) {
  const u = new URL(url);
  return new Promise<{ text: string; ms: number }>((resolve) => {
    const started = Date.now();
    const socket = connect(Number(u.port), u.hostname);
    let text = '';
    let drip: NodeJS.Timeout | undefined;
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      text += d;
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearInterval(drip);
      resolve({ text, ms: Date.now() - started });
    });
    socket.write(head);
    if (opts.body) socket.write(opts.body);
    if (opts.dripMs) drip = setInterval(() => socket.writable && socket.write('a'), opts.dripMs);
    else setTimeout(() => socket.end(), 2000);
  });
}

const jsonOf = (text: string) => JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4));

describe('resilience', () => {
  let t: TestApp;
  let hook: string;
  const runCount = async () =>
    Number(
      (
        await t.db.database.db
          .selectFrom('runs')
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  beforeAll(async () => {
    t = await startTestApp({ env: { HOOKFLOW_REQUEST_TIMEOUT_MS: '500' } });
    const flow = await t.api('POST', '/api/v1/flows', webhookFlow());
    expect(flow.status).toBe(201);
    hook = flow.body.webhooks[0].url;
  });
  afterAll(async () => {
    await t?.close();
  });

  const post = (body = '{}') =>
    fetch(hook, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

  it('a webhook whose run cannot be stored gets 503 {msg, code} with Retry-After, and no run', async () => {
    expect((await post()).status).toBe(200);
    const before = await runCount();
    // A real failure of the insert (the table is briefly gone), not a mock.
    await sql`alter table runs rename to runs_away`.execute(t.db.database.db);
    let res: Response;
    try {
      res = await post('{"n":1}');
    } finally {
      await sql`alter table runs_away rename to runs`.execute(t.db.database.db);
    }
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    const body = await res.json();
    expect(body).toEqual({ msg: expect.any(String), code: 'not_stored' });
    expect(await runCount()).toBe(before);
    expect((await post()).status).toBe(200);
  });

  it('the API refuses JSON that is not UTF-8 (400) and bodies that are not JSON (415)', async () => {
    const bad = Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    const res = await fetch(`${t.url}/api/v1/flows`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.adminKey}`, 'content-type': 'application/json' },
      body: bad,
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ msg: expect.any(String), code: 'invalid_utf8' });
    const text = await fetch(`${t.url}/api/v1/flows`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.adminKey}`, 'content-type': 'text/plain' },
      body: 'name=x',
    });
    expect(text.status).toBe(415);
    expect((await text.json()).code).toBe('unsupported_media_type');
  });

  it('a body that trickles in is cut off after HOOKFLOW_REQUEST_TIMEOUT_MS with a 408 in the error shape', async () => {
    const u = new URL(hook);
    const before = await runCount();
    const r = await rawExchange(
      hook,
      `POST ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\nContent-Type: text/plain\r\nContent-Length: 10000\r\n\r\n`,
      { dripMs: 100 },
    );
    expect(r.text).toMatch(/^HTTP\/1\.1 408 /);
    expect(jsonOf(r.text)).toEqual({ msg: expect.any(String), code: 'request_timeout' });
    expect(r.ms).toBeGreaterThanOrEqual(450);
    expect(r.ms).toBeLessThan(5000);
    expect(await runCount()).toBe(before);
  });

  it('an oversized header block gets 431 in the error shape; 1,500 small headers are all kept', async () => {
    const u = new URL(hook);
    let big = '';
    for (let i = 0; i < 300; i++) big += `x-big-${i}: ${'v'.repeat(100)}\r\n`;
    const r = await rawExchange(
      hook,
      `POST ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\n${big}Content-Length: 2\r\n\r\n{}`,
    );
    expect(r.text).toMatch(/^HTTP\/1\.1 431 /);
    expect(jsonOf(r.text)).toEqual({ msg: expect.any(String), code: 'headers_too_large' });

    // Host last, after 1,500 headers: Node would drop it (and the request) past 1,000 headers.
    let many = '';
    for (let i = 0; i < 1500; i++) many += `x-${i}: ${i}\r\n`;
    const ok = await rawExchange(
      hook,
      `POST ${u.pathname} HTTP/1.1\r\n${many}Content-Type: application/json\r\nContent-Length: 2\r\nHost: ${u.host}\r\nConnection: close\r\n\r\n{}`,
    );
    expect(ok.text).toMatch(/^HTTP\/1\.1 200 /);
    const run = await t.api('GET', `/api/v1/runs/${jsonOf(ok.text).run_id}`);
    expect(run.body.trigger.headers['x-1499']).toBe('1499');
  });
});

describe.runIf(usingPostgres)('a PostgreSQL connection killed while checked out', () => {
  it('fails only its own queries: the process stays up and the pool serves the next one', async () => {
    const test = await createTestDatabase();
    const errors: Error[] = [];
    const database = await openDatabase({
      databaseUrl: test.databaseUrl,
      dataDir: test.dataDir,
      onError: (err) => errors.push(err),
    });
    try {
      // Held between two statements, as a transaction holds its connection.
      const held = await database.pool.connect();
      const pid = (await held.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0].pid;
      await sql`select pg_terminate_backend(${pid})`.execute(database.db);
      // Without a listener of its own this 'error' would be thrown and take the process down.
      await eventually(() => errors.length > 0, 10_000, 'the killed connection reported');
      await expect(held.query('select 1')).rejects.toThrow();
      held.release(true);
      const r = await sql<{ one: number }>`select 1 as one`.execute(database.db);
      expect(r.rows[0].one).toBe(1);
    } finally {
      await database.close();
      await test.drop();
    }
  });
});
