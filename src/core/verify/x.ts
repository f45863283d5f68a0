/**
 * X (Twitter) Account Activity API: `X-Twitter-Webhooks-Signature: sha256=<base64
 * HMAC-SHA256(consumer_secret, rawBody)>`. The GET CRC check is the preset's handshake.
 */
import type { z } from 'zod';
import { oneSecretHmacScheme } from './hmac.ts';

export const { schema: xDataSchema, verifier: xVerifier } = oneSecretHmacScheme('consumer_secret', {
  header: 'X-Twitter-Webhooks-Signature',
  prefix: 'sha256=',
  encoding: 'base64',
});

export type XData = z.output<typeof xDataSchema>;
