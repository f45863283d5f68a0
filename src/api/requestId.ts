/**
 * Request ids: the caller's `X-Request-Id` when it is a sane token (a load balancer's or a
 * sender's trace id, so one id follows the request through every log), otherwise a fresh UUID.
 * "Sane": 1–128 characters from a set that is safe in a header, a log line and a URL.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const SANE_REQUEST_ID = /^[A-Za-z0-9._:+/=@-]{1,128}$/;

export function requestIdFor(req: Pick<IncomingMessage, 'headers'>): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && SANE_REQUEST_ID.test(given) ? given : randomUUID();
}
