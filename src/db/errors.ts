/**
 * Telling "the database is unreachable right now" apart from other failures: such a request is
 * answered 503 (try again), not 500, and workers back off instead of giving up.
 */

/** Node socket errors of a connection that could not be made or was cut. */
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);
/** PostgreSQL: admin_shutdown, crash_shutdown, cannot_connect_now (starting up or shutting down). */
const SHUTDOWN_CODES = new Set(['57P01', '57P02', '57P03']);
/** pg's own messages for a connection that ended or never came up. */
const PG_CLIENT_MESSAGES =
  /Connection terminated|connection timeout|Client has encountered a connection error|Client was closed|not queryable|timeout exceeded when trying to connect/i;

export function isDatabaseUnavailable(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (code.startsWith('08')) return true; // connection_exception and its subclasses
    if (SHUTDOWN_CODES.has(code) || SOCKET_CODES.has(code)) return true;
  }
  // An AggregateError (a refused connection to every address of a host) carries the causes.
  const errors = (err as { errors?: unknown }).errors;
  if (Array.isArray(errors) && errors.some(isDatabaseUnavailable)) return true;
  const message = (err as { message?: unknown }).message;
  return typeof message === 'string' && PG_CLIENT_MESSAGES.test(message);
}
