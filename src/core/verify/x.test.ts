import { createHmac } from 'node:crypto';
import { describe } from 'vitest';
import { signedSchemeCases } from './testing.ts';

// docs.x.com "Securing webhooks": X-Twitter-Webhooks-Signature = "sha256=" + base64
// HMAC-SHA256(consumer secret, raw body).
describe('x verifier', () => {
  signedSchemeCases({
    type: 'x',
    data: { consumer_secret: 'x-consumer-secret-1' },
    header: 'X-Twitter-Webhooks-Signature',
    body: JSON.stringify({ for_user_id: '2244994945', tweet_create_events: [{ text: 'hi ✓' }] }),
    sign: (data, body) => ({
      'x-twitter-webhooks-signature': `sha256=${createHmac('sha256', data.consumer_secret).update(body).digest('base64')}`,
    }),
    malformed: ['sha256=', 'sha256=!!!!', `sha256=${'0'.repeat(64)}`, Buffer.alloc(32).toString('base64')],
  });
});
