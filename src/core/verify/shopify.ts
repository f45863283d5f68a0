/** Shopify: `X-Shopify-Hmac-Sha256: <base64 HMAC-SHA256(secret, rawBody)>`. */
import type { z } from 'zod';
import { oneSecretHmacScheme } from './hmac.ts';

export const { schema: shopifyDataSchema, verifier: shopifyVerifier } = oneSecretHmacScheme('secret', {
  header: 'X-Shopify-Hmac-Sha256',
  encoding: 'base64',
});

export type ShopifyData = z.output<typeof shopifyDataSchema>;
