/**
 * Meta (Facebook, Instagram, WhatsApp Cloud API): `X-Hub-Signature-256: sha256=<hex
 * HMAC-SHA256(app_secret, rawBody)>`. `verify_token` is kept for the GET subscription handshake
 * (`hub.verify_token`), which the preset answers; it plays no part in the signature.
 */
import { z } from 'zod';
import { hmacHeaderVerifier } from './hmac.ts';

export const metaDataSchema = z.strictObject({
  app_secret: z.string().min(1),
  verify_token: z.string().min(1),
});

export type MetaData = z.output<typeof metaDataSchema>;

export const metaVerifier = hmacHeaderVerifier(metaDataSchema, {
  header: 'X-Hub-Signature-256',
  prefix: 'sha256=',
  encoding: 'hex',
  key: (d) => d.app_secret,
});
