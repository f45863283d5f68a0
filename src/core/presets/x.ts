/**
 * X (Twitter) Account Activity API: `X-Twitter-Webhooks-Signature`. The challenge-response check
 * (CRC) is a GET with `crc_token`, answered with its HMAC under the consumer secret.
 */
import { hmac } from '../verify/util.ts';
import type { Preset } from './types.ts';
import { credentialMissing, query, secretOf } from './util.ts';

export const xPreset: Preset = {
  id: 'x',
  name: 'X (Twitter)',
  credential_type: 'x',
  secret_fields: [{ key: 'consumer_secret', label: 'Consumer secret (API key secret)' }],
  headers: ['X-Twitter-Webhooks-Signature'],
  handshake:
    'GET crc_token is answered 200 {"response_token": "sha256=" + base64 HMAC-SHA256(consumer_secret, crc_token)}',
  dedupe: null,
  docs_url: 'https://docs.x.com/x-api/webhooks/introduction',
  setup: [
    'In the X Developer Portal → your app → Keys and tokens, copy the API Key Secret (consumer secret) and paste it here.',
    "Register the URL as a webhook of the Account Activity API (POST /2/webhooks with url=…); X's CRC check (GET crc_token) is answered at once, now and every time X repeats it.",
  ],
  answerBeforeAuth: (req, credential) => {
    const token = req.method === 'GET' ? query(req, 'crc_token') : undefined;
    if (token === undefined) return undefined;
    const secret = secretOf(credential, 'consumer_secret');
    if (!secret) return credentialMissing;
    return {
      status: 200,
      json: { response_token: `sha256=${hmac('sha256', secret, token).toString('base64')}` },
    };
  },
};
