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
  dedupeKey: headerKey('X-Shopify-Webhook-Id'),
};
