/** Square: `x-square-hmacsha256-signature` over `PUBLIC_URL` + path + query and the body. */
import type { Preset } from './types.ts';
import { bodyKey } from './util.ts';

export const squarePreset: Preset = {
  id: 'square',
  name: 'Square',
  credential_type: 'square',
  secret_fields: [{ key: 'signature_key', label: 'Signature key' }],
  headers: ['x-square-hmacsha256-signature'],
  handshake: null,
  dedupe: 'body "event_id"',
  docs_url: 'https://developer.squareup.com/docs/webhooks/step3validate',
  setup: [
    'In the Square Developer Console → your app → Webhooks → Subscriptions → Add subscription, paste the URL as the Notification URL.',
    'Open the subscription, copy its Signature key and paste it here.',
    'Square signs the URL it calls: PUBLIC_URL must be the address Square reaches Hookflow at, or every request gets 401.',
  ],
  dedupeKey: bodyKey('event_id'),
};
