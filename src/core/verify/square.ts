/**
 * Square: `x-square-hmacsha256-signature: <base64 HMAC-SHA256(signature_key, notificationUrl +
 * rawBody)>`, where the notification URL is the one the subscription was created with — the URL
 * the request was sent to (`input.url`: `PUBLIC_URL` + path + query).
 */
import type { z } from 'zod';
import { oneSecretHmacScheme } from './hmac.ts';
import { fail } from './types.ts';

export const { schema: squareDataSchema, verifier: squareVerifier } = oneSecretHmacScheme('signature_key', {
  header: 'x-square-hmacsha256-signature',
  encoding: 'base64',
  message: (input) =>
    typeof input.url === 'string' && input.url !== ''
      ? [input.url, input.rawBody]
      : fail('Square signs the request URL, but the public URL of this request is not known'),
});

export type SquareData = z.output<typeof squareDataSchema>;
