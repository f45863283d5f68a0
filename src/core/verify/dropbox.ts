/** Dropbox: `X-Dropbox-Signature: <hex HMAC-SHA256(app_secret, rawBody)>`. */
import type { z } from 'zod';
import { oneSecretHmacScheme } from './hmac.ts';

export const { schema: dropboxDataSchema, verifier: dropboxVerifier } = oneSecretHmacScheme('app_secret', {
  header: 'X-Dropbox-Signature',
  encoding: 'hex',
});

export type DropboxData = z.output<typeof dropboxDataSchema>;
