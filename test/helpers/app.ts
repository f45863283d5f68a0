/**
 * A real Hookflow app on 127.0.0.1 (an ephemeral port) over a real test database, with an admin
 * key of the default tenant, and a small JSON client for the API.
 */
import { createServer } from 'node:net';
import { type App, type AppDeps, createApp, type Role } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { checkSecretKey, resolveSecretKey } from '../../src/secretKey.ts';
import { createApiKey } from '../../src/tenants/store.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';

export type ApiResponse<T = any> = {
  status: number;
  body: T;
  headers: Record<string, string | string[] | undefined>;
  text: string;
};

export type TestApp = {
  app: App;
  url: string;
  db: TestDatabase;
  adminKey: string;
  secretKey: Buffer;
  api<T = any>(method: string, path: string, body?: unknown, key?: string): Promise<ApiResponse<T>>;
  /** Restarts the app on the same data (closing the database in between). */
  restart(): Promise<void>;
  close(): Promise<void>;
};

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function startTestApp(
  opts: {
    env?: Record<string, string>;
    now?: () => number;
    db?: TestDatabase;
    onDisk?: boolean;
    /** Run workers in the app (off by default: most tests look at runs as accepted, still queued). */
    worker?: boolean | { leaseMs?: number; pollMs?: number; maxInFlight?: number };
    mailer?: AppDeps['mailer'];
    /** Delivery worker tuning (poll, lease, jitter source, request timeout). */
    delivery?: AppDeps['delivery'];
    /** The process role; by default `all` with `worker`, else `api`. */
    role?: Role;
    /** Pino options (e.g. `{level, stream}` to read the log lines); off by default. */
    logger?: AppDeps['logger'];
    /** The admin UI's build folder (default: web/dist). */
    uiDir?: AppDeps['uiDir'];
  } = {},
): Promise<TestApp> {
  const db = opts.db ?? (await createTestDatabase({ onDisk: opts.onDisk }));
  const port = await freePort();
  const config = loadConfig({
    PORT: String(port),
    HOST: '127.0.0.1',
    DATA_DIR: db.dataDir,
    LOG_LEVEL: 'silent',
    ...opts.env,
  });
  const { key: secretKey } = resolveSecretKey(config.secretKey, config.dataDir);
  await checkSecretKey(db.database, secretKey);
  const { key: adminKey } = await createApiKey(db.database, {
    tenantId: 'default',
    name: 'test admin',
    isAdmin: true,
  });

  let app: App;
  const boot = async () => {
    app = await createApp({
      config,
      database: db.database,
      secretKey,
      now: opts.now,
      role: opts.role ?? (opts.worker ? 'all' : 'api'),
      logger: opts.logger,
      worker: typeof opts.worker === 'object' ? opts.worker : { pollMs: 200 },
      mailer: opts.mailer,
      delivery: opts.delivery,
      uiDir: opts.uiDir,
    });
    await app.listen({ port, host: '127.0.0.1' });
  };
  await boot();
  const url = `http://127.0.0.1:${port}`;

  const t: TestApp = {
    get app() {
      return app;
    },
    url,
    db,
    adminKey,
    secretKey,
    async api(method, path, body, key = adminKey) {
      const res = await fetch(url + path, {
        method,
        headers: {
          ...(key ? { authorization: `Bearer ${key}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await res.text();
      let parsed: any = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {}
      return { status: res.status, body: parsed, headers: Object.fromEntries(res.headers), text };
    },
    async restart() {
      await app.close();
      await db.close();
      await db.open();
      await boot();
    },
    async close() {
      await app.close();
      if (!opts.db) await db.drop();
    },
  };
  return t;
}

/** A minimal flow with one webhook node; `config` is merged into the webhook node's config. */
export function webhookFlow(config: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  return {
    name: 'Test flow',
    nodes: [
      {
        id: 'webhook_1',
        type: 'webhook',
        position: { x: 0, y: 0 },
        config: { methods: ['POST'], ...config },
      },
    ],
    edges: [],
    ...extra,
  };
}
