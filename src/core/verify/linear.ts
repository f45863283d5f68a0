/**
 * Linear: `Linear-Signature: <hex HMAC-SHA256(secret, rawBody)>`. Linear's docs and SDK
 * (`LinearWebhooks.verify`) also reject a delivery whose body field `webhookTimestamp` (unix
 * milliseconds) is more than a minute from now, against replays; so do we, when the field is there.
 */
import type { z } from 'zod';
import { oneSecretHmacScheme } from './hmac.ts';
import { fail, type VerifyInput } from './types.ts';

export const LINEAR_TOLERANCE_MS = 60_000;

/** `webhookTimestamp` of a JSON object body; `undefined` when the body is not one or has none. */
function bodyTimestamp(rawBody: Buffer): unknown {
  let body: unknown;
  try {
    body = JSON.parse(rawBody.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof body !== 'object' || body === null || !Object.hasOwn(body, 'webhookTimestamp')) return undefined;
  return (body as { webhookTimestamp: unknown }).webhookTimestamp;
}

function linearMessage(input: VerifyInput) {
  const ts = bodyTimestamp(input.rawBody);
  if (ts !== undefined) {
    if (typeof ts !== 'number' || !Number.isFinite(ts)) return fail('Malformed webhookTimestamp in the body');
    if (!(Math.abs(input.nowMs - ts) <= LINEAR_TOLERANCE_MS)) {
      return fail(`webhookTimestamp is outside the ${LINEAR_TOLERANCE_MS / 1000} s tolerance`);
    }
  }
  return [input.rawBody];
}

export const { schema: linearDataSchema, verifier: linearVerifier } = oneSecretHmacScheme('secret', {
  header: 'Linear-Signature',
  encoding: 'hex',
  message: linearMessage,
});

export type LinearData = z.output<typeof linearDataSchema>;
