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
  dedupeKey: headerKey('I-Twilio-Idempotency-Token'),
};
