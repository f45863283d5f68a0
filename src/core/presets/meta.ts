/**
 * Meta (Facebook, Instagram, WhatsApp): `X-Hub-Signature-256` keyed with the app secret. Subscribing
 * sends GET `hub.mode=subscribe&hub.verify_token=…&hub.challenge=…`: the challenge goes back as
 * text when the verify token is the credential's (compared in constant time), else 403.
 */
import { secretsEqual } from '../verify/util.ts';
import type { Preset } from './types.ts';
import { credentialMissing, query, secretOf, text } from './util.ts';

export const metaPreset: Preset = {
  id: 'meta',
  name: 'Meta (Facebook, Instagram, WhatsApp)',
  credential_type: 'meta',
  secret_fields: [
    { key: 'app_secret', label: 'App secret' },
    { key: 'verify_token', label: 'Verify token' },
  ],
  headers: ['X-Hub-Signature-256'],
  handshake:
    "GET hub.mode=subscribe with the credential's hub.verify_token is answered 200 with hub.challenge as text; a wrong token 403",
  dedupe: null,
  docs_url: 'https://developers.facebook.com/docs/graph-api/webhooks/getting-started',
  setup: [
    'In the Meta App Dashboard → App settings → Basic, copy the App secret and paste it here.',
    'Type a random string as the verify token here; under Webhooks (or WhatsApp → Configuration) paste the URL as the Callback URL and the same string as the Verify token.',
    "Meta's GET subscribe check is answered with hub.challenge at once when the token matches.",
  ],
  answerBeforeAuth: (req, credential) => {
    if (req.method !== 'GET' || query(req, 'hub.mode') !== 'subscribe') return undefined;
    const expected = secretOf(credential, 'verify_token');
    if (!expected) return credentialMissing;
    const given = query(req, 'hub.verify_token');
    if (given === undefined || !secretsEqual(given, expected))
      return {
        status: 403,
        json: { msg: 'hub.verify_token does not match the credential', code: 'verify_token_mismatch' },
      };
    return text(query(req, 'hub.challenge') ?? '');
  },
};
