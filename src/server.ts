/**
 * Starting and stopping the product: open the database, migrate, check the master key, make sure
 * an admin key exists, listen. SIGTERM/SIGINT drain: stop accepting, finish what is in flight, exit.
 */
import type { FastifyBaseLogger } from 'fastify';
import { type App, createApp, type Role } from './app.ts';

export type { Role };

import type { Config } from './config.ts';
import { type Database, openDatabase } from './db/connect.ts';
import { migrateToLatest } from './db/migrate.ts';
import { startMaintenance } from './maintenance.ts';
import { checkSecretKey, resolveSecretKey } from './secretKey.ts';
import { countApiKeys, createApiKey, ensureBootstrapKey } from './tenants/store.ts';

export type Running = { app: App; database: Database; url: string; stop(): Promise<void> };

export async function prepareDatabase(
  config: Config,
  log: Pick<FastifyBaseLogger, 'info' | 'warn' | 'error'>,
) {
  const database = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    onError: (err) => log.warn({ err: err.message }, 'database connection error'),
  });
  try {
    const applied = await migrateToLatest(database.db);
    if (applied.length) log.info({ applied }, 'migrations applied');
    const { key, generatedAt } = resolveSecretKey(config.secretKey, config.dataDir);
    if (generatedAt) {
      log.warn(
        { file: generatedAt },
        config.databaseUrl
          ? 'HOOKFLOW_SECRET_KEY is not set: generated one into DATA_DIR. Every process sharing this DATABASE_URL needs the same key — set HOOKFLOW_SECRET_KEY from this file.'
          : 'HOOKFLOW_SECRET_KEY is not set: generated one into DATA_DIR. Back it up with the data.',
      );
    }
    await checkSecretKey(database, key);
    return { database, secretKey: key };
  } catch (err) {
    await database.close();
    throw err;
  }
}

export async function startServer(
  config: Config,
  opts: { role?: Role; print?: (line: string) => void } = {},
): Promise<Running> {
  const print = opts.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const app0Logger = { level: config.logLevel };
  // A logger for start-up messages before the app exists.
  const { default: pino } = await import('pino');
  const log = pino(app0Logger);
  const { database, secretKey } = await prepareDatabase(config, log);

  if (config.bootstrapKey) {
    if (await ensureBootstrapKey(database, config.bootstrapKey))
      log.info('bootstrap API key from HOOKFLOW_BOOTSTRAP_KEY installed');
  } else if ((await countApiKeys(database)) === 0) {
    const created = await createApiKey(database, {
      tenantId: 'default',
      name: 'first admin key',
      isAdmin: true,
    });
    print('');
    print('  A platform admin API key was created. It is shown this once; keep it safe:');
    print('');
    print(`      ${created.key}`);
    print('');
  }

  const app = await createApp({
    config,
    database,
    secretKey,
    logger: { level: config.logLevel },
    role: opts.role,
    worker: { leaseMs: config.runLeaseMs },
  });
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (err) {
    await app.close();
    await database.close();
    throw err;
  }
  const address = app.server.address();
  const url =
    typeof address === 'object' && address
      ? `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${address.port}`
      : config.publicUrl;
  app.log.info(
    { url, public_url: config.publicUrl, database: database.kind, role: opts.role ?? 'all' },
    'Hookflow is running',
  );

  const stopMaintenance = startMaintenance(database, app.log);

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await stopMaintenance();
      await app.close();
      await database.close();
    })());
  return { app, database, url, stop };
}
