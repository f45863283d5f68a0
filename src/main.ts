/**
 * The CLI: `hookflow start [--role all|api|worker]`, `hookflow migrate`,
 * `hookflow keys create --name NAME [--tenant ID] [--admin]`,
 * `hookflow flows export ID`, `hookflow flows apply FILE|-` (src/cli/flows.ts).
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from './config.ts';
import { DataDirLockedError } from './db/connect.ts';
import { MigrationError } from './db/migrate.ts';
import { SecretKeyError } from './secretKey.ts';
import { prepareDatabase, type Role, startServer } from './server.ts';
import { createApiKey, getTenant } from './tenants/store.ts';

const USAGE = `Usage: hookflow <command>

  start [--role all|api|worker]   run Hookflow (default role: all)
  migrate                         apply database migrations and exit
  bench [--json] [--scale] [--only ingest,bare,e2e,delivery]
                                  measure ingest, end to end and delivery (see bench/run.ts)
  keys create --name NAME [--tenant TENANT_ID] [--admin]
                                  create an API key (printed once)
  flows export <flow id>          print a flow's portable document (JSON)
  flows apply <file | ->          create the flow, or update the one of the same name
                                  (flows: set HOOKFLOW_URL and HOOKFLOW_API_KEY)

Configuration comes from environment variables; see the README.`;

const quietLog = {
  info: () => {},
  warn: (obj: unknown, msg?: string) => console.error(msg ?? obj),
  error: (obj: unknown, msg?: string) => console.error(msg ?? obj),
};

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    console.log(USAGE);
    return command ? 0 : 1;
  }
  if (command === 'start') {
    const { values } = parseArgs({
      args: rest,
      options: { role: { type: 'string', default: process.env.HOOKFLOW_ROLE || 'all' } },
    });
    const role = values.role as Role;
    if (!['all', 'api', 'worker'].includes(role)) {
      console.error(`--role must be all, api or worker (got "${role}")`);
      return 2;
    }
    const config = loadConfig();
    const running = await startServer(config, { role });
    const shutdown = async (signal: string) => {
      running.app.log.info({ signal }, 'shutting down: no new requests, finishing those in flight');
      const timer = setTimeout(() => {
        running.app.log.error('shutdown took longer than 30 s; exiting');
        process.exit(1);
      }, 30_000);
      timer.unref();
      try {
        await running.stop();
      } catch (err) {
        // Whatever could not be finished or released comes back to other workers after its lease.
        running.app.log.error({ err }, 'shutdown did not complete cleanly');
        process.exit(1);
      }
      process.exit(0);
    };
    process.once('SIGTERM', () => void shutdown('SIGTERM'));
    process.once('SIGINT', () => void shutdown('SIGINT'));
    return -1; // keep running
  }
  if (command === 'bench') {
    // The benchmark orchestrates its own processes (Hookflow, receiver, load generator).
    const { spawn } = await import('node:child_process');
    const { fileURLToPath } = await import('node:url');
    const script = fileURLToPath(new URL('../bench/run.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...rest], { stdio: 'inherit' });
    return new Promise((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
  }
  if (command === 'flows') return (await import('./cli/flows.ts')).flowsCommand(rest);
  if (command === 'migrate') {
    const config = loadConfig();
    const { database } = await prepareDatabase(config, {
      ...quietLog,
      info: (o: unknown) => console.log(o),
    } as any);
    await database.close();
    console.log('Database is up to date.');
    return 0;
  }
  if (command === 'keys') {
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        name: { type: 'string' },
        tenant: { type: 'string', default: 'default' },
        admin: { type: 'boolean', default: false },
      },
    });
    if (positionals[0] !== 'create' || !values.name) {
      console.error('Usage: hookflow keys create --name NAME [--tenant TENANT_ID] [--admin]');
      return 2;
    }
    const config = loadConfig();
    const { database } = await prepareDatabase(config, quietLog as any);
    try {
      if (!(await getTenant(database, values.tenant!))) {
        console.error(`No tenant with id "${values.tenant}"`);
        return 1;
      }
      const created = await createApiKey(database, {
        tenantId: values.tenant!,
        name: values.name,
        isAdmin: values.admin,
      });
      console.log(created.key);
      return 0;
    } finally {
      await database.close();
    }
  }
  console.error(`Unknown command "${command}".\n\n${USAGE}`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err) => {
    if (
      err instanceof ConfigError ||
      err instanceof DataDirLockedError ||
      err instanceof SecretKeyError ||
      err instanceof MigrationError
    ) {
      console.error(`hookflow: ${err.message}`);
    } else if ((err as NodeJS.ErrnoException)?.code === 'EADDRINUSE') {
      console.error(
        `hookflow: ${(err as Error).message} — another process is using that port; set PORT to another one.`,
      );
    } else if ((err as NodeJS.ErrnoException)?.code === 'ECONNREFUSED') {
      console.error(`hookflow: cannot reach the database (${(err as Error).message}); check DATABASE_URL.`);
    } else {
      console.error('hookflow: failed to start:', err);
    }
    process.exit(1);
  },
);
