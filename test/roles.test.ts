/**
 * Scale-out roles against one PostgreSQL: an `api` process accepts webhooks, a separate `worker`
 * process runs them, and a `flow`-mode sender on the api process gets the respond node's answer
 * computed in the worker process (through the database and NOTIFY). PostgreSQL only: the embedded
 * database serves a single process.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './helpers/app.ts';
import { createTestDatabase, type TestDatabase, usingPostgres } from './helpers/db.ts';
import { eventually } from './helpers/receiver.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const KEY = 'hf_roles_test_bootstrap_key_0123456789';
const SECRET = Buffer.alloc(32, 7).toString('base64');

describe.runIf(usingPostgres)('api and worker roles in separate processes', () => {
  let db: TestDatabase;
  const children: ChildProcess[] = [];
  let apiPort: number;
  let workerPort: number;

  const start = async (role: string, port: number) => {
    const child = spawn(process.execPath, [path.join(root, 'bin/hookflow.js'), 'start', '--role', role], {
      cwd: root,
      env: {
        PATH: process.env.PATH,
        PORT: String(port),
        HOST: '127.0.0.1',
        DATA_DIR: path.join(db.dataDir, role),
        LOG_LEVEL: 'warn',
        DATABASE_URL: db.databaseUrl,
        HOOKFLOW_BOOTSTRAP_KEY: KEY,
        HOOKFLOW_SECRET_KEY: SECRET,
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    children.push(child);
    await eventually(
      async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok,
      30_000,
      `${role} ready`,
    );
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    await db.close();
    apiPort = await freePort();
    workerPort = await freePort();
    await start('api', apiPort);
    await start('worker', workerPort);
  }, 90_000);
  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await db.drop();
  });

  it('a worker-only process runs what the api process accepted and answers a flow-mode sender', async () => {
    const api = (p: string, body: unknown) =>
      fetch(`http://127.0.0.1:${apiPort}${p}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then((r) => r.json() as Promise<any>);
    const flow = await api('/api/v1/flows', {
      name: 'split roles',
      nodes: [
        {
          id: 'webhook_1',
          type: 'webhook',
          config: { methods: ['POST'], response: { mode: 'flow', timeout_ms: 15_000 } },
        },
        { id: 'set_1', type: 'set', config: { values: { 'vars.pid': 'worker' } } },
        {
          id: 'respond_1',
          type: 'respond',
          config: { status: 200, body: { hello: '${Webhook::Body.name}', by: '${vars.pid}' } },
        },
      ],
      edges: [
        { from: 'webhook_1', to: 'set_1' },
        { from: 'set_1', to: 'respond_1' },
      ],
    });
    const res = await fetch(flow.webhooks[0].url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"name":"Ada"}',
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ hello: 'Ada', by: 'worker' });
    // The worker process serves health but no API or hooks.
    expect((await fetch(`http://127.0.0.1:${workerPort}/healthz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${workerPort}/api/v1/flows`)).status).toBe(404);
  }, 60_000);
});
