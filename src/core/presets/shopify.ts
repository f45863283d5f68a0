/** Shopify: `X-Shopify-Hmac-Sha256`, base64 HMAC-SHA256 of the body. */
import type { Preset } from './types.ts';
import { headerKey } from './util.ts';

export const shopifyPreset: Preset = {
  id: 'shopify',
  name: 'Shopify',
  credential_type: 'shopify',
  secret_fields: [{ key: 'secret', label: 'Client secret (webhook signing secret)' }],
  headers: ['X-Shopify-Hmac-Sha256', 'X-Shopify-Topic', 'X-Shopify-Shop-Domain', 'X-Shopify-Webhook-Id'],
  handshake: null,
  dedupe: 'X-Shopify-Webhook-Id header',
  docs_url: 'https://shopify.dev/docs/apps/build/webhooks/subscribe/https',
  setup: [
    'In the Shopify admin → Settings → Notifications → Webhooks → Create webhook, paste the URL and choose format JSON.',
    'Copy the key shown under the list ("Your webhooks will be signed with …") and paste it here; for an app\'s webhooks, paste the app\'s client secret instead.',
  ],
  dedupeKey: headerKey('X-Shopify-Webhook-Id'),
};
