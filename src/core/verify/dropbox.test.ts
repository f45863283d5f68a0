import { createHmac } from 'node:crypto';
import { describe } from 'vitest';
import { signedSchemeCases } from './testing.ts';

// dropbox.com/developers "Webhooks": X-Dropbox-Signature = hex HMAC-SHA256(app secret, raw body).
describe('dropbox verifier', () => {
  signedSchemeCases({
    type: 'dropbox',
    data: { app_secret: 'dropbox-app-secret-1' },
    header: 'X-Dropbox-Signature',
    body: JSON.stringify({ list_folder: { accounts: ['dbid:AAH4f99T0taONIb-OurWxbNQ6ywGRopQngc'] } }),
    sign: (data, body) => ({
      'x-dropbox-signature': createHmac('sha256', data.app_secret).update(body).digest('hex'),
    }),
    malformed: [
      '0'.repeat(63),
      '0'.repeat(40),
      `sha256=${'0'.repeat(64)}`,
      Buffer.alloc(32).toString('base64'),
    ],
  });
});
