/** Dropbox: `X-Dropbox-Signature`. Verifying the URL sends GET `challenge`, echoed back as text. */
import type { Preset } from './types.ts';
import { query, text } from './util.ts';

export const dropboxPreset: Preset = {
  id: 'dropbox',
  name: 'Dropbox',
  credential_type: 'dropbox',
  secret_fields: [{ key: 'app_secret', label: 'App secret' }],
  headers: ['X-Dropbox-Signature'],
  handshake: 'GET challenge is echoed back 200 as text, with X-Content-Type-Options: nosniff',
  dedupe: null,
  docs_url: 'https://www.dropbox.com/developers/reference/webhooks',
  setup: [
    'In the Dropbox App Console → your app → Settings, copy the App secret and paste it here.',
    "Under Webhooks on the same page, paste the URL as a Webhook URI and press Add: Dropbox's GET challenge is answered at once.",
  ],
  answerBeforeAuth: (req) => {
    const challenge = req.method === 'GET' ? query(req, 'challenge') : undefined;
    return challenge === undefined ? undefined : text(challenge, { 'x-content-type-options': 'nosniff' });
  },
};
