/**
 * Delivery workers under faults: a Hookflow process SIGKILLed with a batch of deliveries in flight
 * loses none of them (after restart every message reaches the receiver; a repeat carries the same
 * webhook-id); and an endpoint's rate limit holds across two worker processes (PostgreSQL only).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from './helpers/app.ts';
import { createTestDatabase, type TestDatabase, usingPostgres } from './helpers/db.ts';
import { eventually, startReceiver } from './helpers/receiver.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const KEY = 'hf_delivery_crash_bootstrap_key_012345';
const SECRET = Buffer.alloc(32, 9).toString('base64');

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

async function start(db: TestDatabase, port: number, role = 'all', extra: Record<string, string> = {}) {
  const child = spawn(process.execPath, [path.join(root, 'bin/hookflow.js'), 'start', '--role', role], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: db.databaseUrl ? path.join(db.dataDir, `${role}-${port}`) : db.dataDir,
      LOG_LEVEL: 'error',
      HOOKFLOW_BOOTSTRAP_KEY: KEY,
      HOOKFLOW_SECRET_KEY: SECRET,
      HOOKFLOW_ALLOW_PRIVATE_TARGETS: '127.0.0.1/32',
      HOOKFLOW_DELIVERY_LEASE_MS: '3000',
      ...(db.databaseUrl ? { DATABASE_URL: db.databaseUrl } : {}),
      ...extra,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(child);
  await eventually(
    async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok,
    30_000,
    `hookflow ${role} ready`,
  );
  return child;
}

function api(port: number) {
  return async (method: string, p: string, body?: unknown) => {
    const res = await fetch(`http://127.0.0.1:${port}${p}`, {
      method,
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
}

describe('delivery under faults', () => {
  it('a process killed with deliveries in flight loses none of them', async () => {
    const db = await createTestDatabase({ onDisk: true });
    await db.close();
    let hang = true;
    const receiver = await startReceiver((_req, res) => {
      if (hang) return; // held open: the process dies while these are in flight
      res.end('ok');
    });
    try {
      const port = await freePort();
      const child = await start(db, port);
      const call = api(port);
      const ep = await call('POST', '/api/v1/endpoints', {
        name: 'sink',
        url: `${receiver.url}/in`,
        events: ['order.created'],
      });
      expect(ep.status).toBe(201);
      const ids: string[] = [];
      for (let i = 0; i < 40; i++) {
        const r = await call('POST', '/api/v1/events', { event_type: 'order.created', data: { i } });
        expect(r.status).toBe(202);
        ids.push(r.body.id);
      }
      await eventually(() => receiver.received.length >= 5, 20_000, 'deliveries in flight');
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;

      hang = false;
      await start(db, port);
      const got = () => new Set(receiver.received.map((r) => r.headers['webhook-id'] as string));
      await eventually(
        () => ids.every((id) => got().has(id)),
        60_000,
        'every message delivered after restart',
      );
      // A message sent twice (in flight at the kill) carried the same webhook-id both times.
      for (const id of ids) {
        const bodies = new Set(
          receiver.received
            .filter((r) => r.headers['webhook-id'] === id)
            .map((r) => JSON.parse(r.body).data.i),
        );
        expect(bodies.size).toBe(1);
      }
      const msgs = await eventually(
        async () => {
          const r = await call('GET', '/api/v1/messages?limit=100');
          const all = r.body.data as any[];
          return all.filter((m) => ids.includes(m.id)).every((m) => m.delivery_summary?.delivered === 1)
            ? all
            : undefined;
        },
        30_000,
        'all deliveries recorded as delivered',
      );
      expect(msgs.filter((m: any) => ids.includes(m.id))).toHaveLength(ids.length);
    } finally {
      for (const c of children.splice(0)) c.kill('SIGKILL');
      await receiver.close();
      await db.drop();
    }
  }, 120_000);

  it.runIf(usingPostgres)(
    'rate_limit_per_s holds across two worker processes',
    async () => {
      const db = await createTestDatabase();
      await db.close();
      const receiver = await startReceiver();
      try {
        const apiPort = await freePort();
        await start(db, apiPort, 'api');
        const call = api(apiPort);
        const ep = await call('POST', '/api/v1/endpoints', {
          name: 'limited',
          url: `${receiver.url}/in`,
          events: ['tick'],
          rate_limit_per_s: 5,
        });
        expect(ep.status).toBe(201);
        for (let i = 0; i < 30; i++)
          expect((await call('POST', '/api/v1/events', { event_type: 'tick', data: { i } })).status).toBe(
            202,
          );
        const receivedAt: number[] = [];
        receiver.handler = (_req, res) => {
          receivedAt.push(Date.now());
          res.end('ok');
        };
        await start(db, await freePort(), 'worker');
        await start(db, await freePort(), 'worker');
        await eventually(() => receivedAt.length >= 30, 30_000, 'all 30 delivered');
        // No wall-clock second saw more than the limit.
        const perSecond = new Map<number, number>();
        for (const t of receivedAt)
          perSecond.set(Math.floor(t / 1000), (perSecond.get(Math.floor(t / 1000)) ?? 0) + 1);
        expect(Math.max(...perSecond.values())).toBeLessThanOrEqual(5);
        expect(receivedAt.length).toBe(30);
      } finally {
        for (const c of children.splice(0)) c.kill('SIGKILL');
        await receiver.close();
        await db.drop();
      }
    },
    120_000,
  );
});
