/**
 * Prepared statements for the hot paths of the embedded database (the claims and records of the
 * workers).
 *
 * PostgreSQL parses and plans every statement it is sent afresh. For the claims of the delivery and
 * run workers — recursive walks, lateral joins, several CTEs — planning costs more than running:
 * ~7 ms for a delivery claim on PGlite, where the database shares Node's one thread with everything
 * else, so every claim stalled every request for that long. On PGlite a statement whose SQL text
 * starts with {@link PREPARED} is sent as a named statement instead, parsed once, and run with its
 * generic plan: planned once, never again (claim 6.8 → 3.3 ms, record 9.0 → 5.4 ms).
 *
 * On PostgreSQL the statements go out as they are (unnamed): the server plans in its own processes,
 * a pooler in transaction mode would not keep named statements, and with named statements under
 * `plan_cache_mode = auto` the isolation drill's lag p99 rose from ~100 ms to 640 ms there.
 *
 * Only fixed SQL texts may carry the mark (parameters vary, the text does not): each distinct text
 * becomes one named statement for the connection's life. Past {@link MAX_PREPARED} distinct texts,
 * marked statements are sent unnamed (as everything else is).
 */
import type { PostgresPool, PostgresPoolClient } from 'kysely';
import type pg from 'pg';

/** Written literally at the very start of the SQL text (an interpolated `${PREPARED}` would be a parameter). */
export const PREPARED = '/* prepared */';

export const MAX_PREPARED = 256;

/**
 * The pool as Kysely's Postgres dialect sees it: clients whose marked statements go out as named
 * statements with their generic plan. Everything else passes through untouched.
 */
export function preparingPool(pool: pg.Pool): PostgresPool {
  const wrapped = new WeakMap<pg.PoolClient, PostgresPoolClient>();
  // One name per marked text, the same on every connection of the pool (node-postgres keeps, per
  // connection, which names it has parsed there; PGlite's pool has one).
  const names = new Map<string, string>();
  const preparedName = (text: string): string | undefined => {
    if (!text.startsWith(PREPARED)) return undefined;
    let name = names.get(text);
    if (name === undefined) {
      if (names.size >= MAX_PREPARED) return undefined;
      name = `hookflow_${names.size + 1}`;
      names.set(text, name);
    }
    return name;
  };
  return {
    async connect() {
      const client = await pool.connect();
      let w = wrapped.get(client);
      if (!w) {
        w = {
          query: ((textOrCursor: any, values?: readonly unknown[]) => {
            if (typeof textOrCursor === 'string') {
              const name = preparedName(textOrCursor);
              if (name) return generic(client, { name, text: textOrCursor, values: values as unknown[] });
              return client.query(textOrCursor, values as unknown[]);
            }
            return client.query(textOrCursor);
          }) as PostgresPoolClient['query'],
          release: () => client.release(),
        };
        wrapped.set(client, w);
      }
      return w;
    },
    end: () => pool.end(),
  };
}

/**
 * Runs a named statement with its generic plan: PostgreSQL decides per execution, from
 * `plan_cache_mode`, so the setting is on for this statement only. Within a transaction that then
 * fails, the transaction's rollback undoes the SET; otherwise the RESET does.
 */
async function generic(client: pg.PoolClient, q: pg.QueryConfig) {
  await client.query(FORCE_GENERIC);
  try {
    return await client.query(q);
  } finally {
    await client.query(RESET).catch(() => {});
  }
}
const FORCE_GENERIC = 'set plan_cache_mode = force_generic_plan';
const RESET = 'reset plan_cache_mode';
