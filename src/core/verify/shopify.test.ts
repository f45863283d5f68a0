import { createHmac } from 'node:crypto';
import { describe } from 'vitest';
import { signedSchemeCases } from './testing.ts';

// shopify.dev "Verify webhooks": X-Shopify-Hmac-Sha256 = base64 HMAC-SHA256(client secret, raw body).

describe('shopify verifier', () => {
  signedSchemeCases({
    type: 'shopify',
    data: { secret: 'shpss_0123456789abcdef' },
    header: 'X-Shopify-Hmac-Sha256',
    body: JSON.stringify({
      id: 820982911946154500,
      email: 'jon@example.com',
      note: 'Grüße ✓',
      total: '10.00',
    }),
    sign: (data, body) => ({
      'x-shopify-hmac-sha256': createHmac('sha256', data.secret).update(body).digest('base64'),
    }),
    malformed: ['!!!!', 'YWJj', Buffer.alloc(20).toString('base64'), 'a'.repeat(64)],
  });
});
