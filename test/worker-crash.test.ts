/**
 * A Hookflow process killed with SIGKILL in the middle of a run: after restart (and the lease), the
 * run completes, and a node whose result had been stored is not executed again.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './helpers/app.ts';
import { createTestDatabase, type TestDatabase } from './helpers/db.ts';
import { eventually, type Receiver, startReceiver } from './helpers/receiver.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const KEY = 'hf_crash_test_bootstrap_key_0123456789';

describe('a worker killed mid-run', () => {
  let db: TestDatabase;
  let first: Receiver;
  let second: Receiver;
  let child: ChildProcess | undefined;
  let port: number;
  let hangSecond = true;

  const start = async () => {
    child = spawn(process.execPath, [path.join(root, 'bin/hookflow.js'), 'start'], {
      cwd: root,
      env: {
        PATH: process.env.PATH,
        PORT: String(port),
        HOST: '127.0.0.1',
        DATA_DIR: db.dataDir,
        LOG_LEVEL: 'warn',
        HOOKFLOW_BOOTSTRAP_KEY: KEY,
        HOOKFLOW_ALLOW_PRIVATE_TARGETS: '127.0.0.1/32',
        HOOKFLOW_RUN_LEASE_MS: '2000',
        ...(db.databaseUrl ? { DATABASE_URL: db.databaseUrl } : {}),
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    await eventually(
      async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok,
      30_000,
      'hookflow ready',
    );
  };
  const api = async (method: string, p: string, body?: unknown) => {
    const res = await fetch(`http://127.0.0.1:${port}${p}`, {
      method,
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  };

  beforeAll(async () => {
    db = await createTestDatabase({ onDisk: true });
    await db.close(); // the child process owns the data from here on
    port = await freePort();
    first = await startReceiver();
    second = await startReceiver((_req, res) => {
      if (hangSecond) return; // never answers: the process is killed while this call is in flight
      res.setHeader('content-type', 'application/json');
      res.end('{"ok":true}');
    });
  });
  afterAll(async () => {
    child?.kill('SIGKILL');
    await first.close();
    await second.close();
    await db.drop();
  });

  it('completes the run after restart without repeating the node that had finished', async () => {
    await start();
    const flow = await api('POST', '/api/v1/flows', {
      name: 'crash',
      nodes: [
        { id: 'webhook_1', type: 'webhook', config: { methods: ['POST'] } },
        { id: 'http_1', type: 'http', config: { method: 'POST', url: `${first.url}/one` } },
        {
          id: 'http_2',
          type: 'http',
          config: { method: 'POST', url: `${second.url}/two`, timeout_ms: 60_000 },
        },
        { id: 'set_1', type: 'set', config: { values: { 'vars.done': true } } },
      ],
      edges: [
        { from: 'webhook_1', to: 'http_1' },
        { from: 'http_1', to: 'http_2' },
        { from: 'http_2', to: 'set_1' },
      ],
    });
    expect(flow.status).toBe(201);
    const ack = await (
      await fetch(flow.body.webhooks[0].url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"n":1}',
      })
    ).json();
    await eventually(() => second.received.length === 1, 20_000, 'http_2 in flight');
    const exited = new Promise((r) => child!.once('exit', r));
    child!.kill('SIGKILL');
    await exited;

    hangSecond = false;
    await start();
    const run = await eventually(
      async () => {
        const r = await api('GET', `/api/v1/runs/${ack.run_id}`);
        return r.body.status === 'succeeded' ? r.body : undefined;
      },
      30_000,
      'run to succeed after restart',
    );
    expect(first.received.length).toBe(1); // http_1 had finished and was stored: not repeated
    expect(second.received.length).toBe(2); // http_2 was in flight: made again (at-least-once)
    expect(run.vars).toEqual({ done: true });
    expect(run.attempts).toBeGreaterThanOrEqual(2);
    expect(run.nodes.map((n: any) => [n.id, n.status])).toEqual([
      ['webhook_1', 'succeeded'],
      ['http_1', 'succeeded'],
      ['http_2', 'succeeded'],
      ['set_1', 'succeeded'],
    ]);
  }, 90_000);

  it('resumes a loop after restart without running again the items it had finished', async () => {
    // The process the test before left running is stopped first (same data, same port).
    if (child && child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child!.once('exit', r));
      child.kill('SIGKILL');
      await gone;
    }
    hangSecond = true;
    const firstBefore = first.received.length;
    const secondBefore = second.received.length;
    await start();
    const flow = await api('POST', '/api/v1/flows', {
      name: 'crash in a loop',
      nodes: [
        { id: 'webhook_1', type: 'webhook', config: { methods: ['POST'] } },
        {
          id: 'loop_1',
          type: 'loop',
          config: {
            items: '${Webhook::Body.urls}',
            nodes: [
              {
                id: 'http_2',
                type: 'http',
                config: { method: 'POST', url: '${loop.item}', timeout_ms: 60_000 },
              },
            ],
            result: '${steps.http_2.status}',
          },
        },
      ],
      edges: [{ from: 'webhook_1', to: 'loop_1' }],
    });
    expect(flow.status).toBe(201);
    const urls = [`${first.url}/a`, `${first.url}/b`, `${first.url}/c`, `${second.url}/d`, `${first.url}/e`];
    const ack = await (
      await fetch(flow.body.webhooks[0].url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ urls }),
      })
    ).json();
    await eventually(() => second.received.length === secondBefore + 1, 20_000, 'item 3 in flight');
    const exited = new Promise((r) => child!.once('exit', r));
    child!.kill('SIGKILL');
    await exited;

    hangSecond = false;
    await start();
    const run = await eventually(
      async () => {
        const r = await api('GET', `/api/v1/runs/${ack.run_id}`);
        return r.body.status === 'succeeded' ? r.body : undefined;
      },
      30_000,
      'run to succeed after restart',
    );
    // Items 0–2 had finished (their calls stored): not made again; item 3's was in flight: made again.
    const paths = first.received.slice(firstBefore).map((r) => r.url);
    expect(paths).toEqual(['/a', '/b', '/c', '/e']);
    expect(second.received.length - secondBefore).toBe(2);
    const loop = run.nodes.find((n: any) => n.id === 'loop_1');
    expect(loop.output).toEqual({ results: [200, 200, 200, 200, 200], count: 5, failed: 0 });
    expect(loop.iterations.map((it: any) => it.status)).toEqual(Array(5).fill('succeeded'));
  }, 90_000);

  it('keeps a run waiting for a callback across a SIGKILL: the call after restart resumes it', async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child!.once('exit', r));
      child.kill('SIGKILL');
      await gone;
    }
    await start();
    const flow = await api('POST', '/api/v1/flows', {
      name: 'crash while waiting',
      nodes: [
        { id: 'webhook_1', type: 'webhook', config: { methods: ['POST'] } },
        {
          id: 'http_1',
          type: 'http',
          config: { method: 'POST', url: `${first.url}/job`, body: { cb: '${resume.wait_1}' } },
        },
        { id: 'wait_1', type: 'wait', config: {} },
        { id: 'set_1', type: 'set', config: { values: { 'vars.answer': '${steps.wait_1.body.answer}' } } },
      ],
      edges: [
        { from: 'webhook_1', to: 'http_1' },
        { from: 'http_1', to: 'wait_1' },
        { from: 'wait_1', to: 'set_1' },
      ],
    });
    expect(flow.status).toBe(201);
    const before = first.received.length;
    const ack = await (
      await fetch(flow.body.webhooks[0].url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      })
    ).json();
    await eventually(
      async () => {
        const r = await api('GET', `/api/v1/runs/${ack.run_id}`);
        return r.body.nodes?.find((n: any) => n.id === 'wait_1')?.status === 'waiting';
      },
      20_000,
      'the run waiting',
    );
    const cb = JSON.parse(first.received[before]!.body).cb as string;
    const exited = new Promise((r) => child!.once('exit', r));
    child!.kill('SIGKILL');
    await exited;

    await start();
    const res = await fetch(cb.replace(/^http:\/\/[^/]+/, `http://127.0.0.1:${port}`), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"answer":"after the crash"}',
    });
    expect(res.status).toBe(200);
    const run = await eventually(
      async () => {
        const r = await api('GET', `/api/v1/runs/${ack.run_id}`);
        return r.body.status === 'succeeded' ? r.body : undefined;
      },
      30_000,
      'run to succeed after the callback',
    );
    expect(run.vars).toEqual({ answer: 'after the crash' });
    expect(first.received.length - before).toBe(1); // the call before the wait was not made again
  }, 90_000);
});
