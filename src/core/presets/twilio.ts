/** Twilio: `X-Twilio-Signature` over `PUBLIC_URL` + path + query and the sorted form parameters. */
import type { Preset } from './types.ts';
import { headerKey } from './util.ts';

export const twilioPreset: Preset = {
  id: 'twilio',
  name: 'Twilio',
  credential_type: 'twilio',
  secret_fields: [{ key: 'auth_token', label: 'Auth token' }],
  headers: ['X-Twilio-Signature', 'I-Twilio-Idempotency-Token'],
  handshake: null,
  dedupe: 'I-Twilio-Idempotency-Token header',
  docs_url: 'https://www.twilio.com/docs/usage/webhooks/webhooks-security',
  setup: [
    'In the Twilio Console → Account → API keys & tokens, copy the (primary) Auth Token and paste it here.',
    'Paste the URL where Twilio should call you — e.g. Phone Numbers → Active numbers → your number → "A message comes in" → Webhook, HTTP POST.',
    'Twilio signs the URL it calls: PUBLIC_URL must be the address Twilio reaches Hookflow at, or every request gets 401.',
  ],
  dedupeKey: headerKey('I-Twilio-Idempotency-Token'),
};
