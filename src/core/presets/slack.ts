/**
 * Slack (Events API): `X-Slack-Signature` over `v0:{timestamp}:{body}`. Slack checks a new request
 * URL with a signed `url_verification` event, answered with its `challenge`.
 */
import type { Preset } from './types.ts';
import { bodyField, bodyKey } from './util.ts';

export const slackPreset: Preset = {
  id: 'slack',
  name: 'Slack',
  credential_type: 'slack',
  secret_fields: [{ key: 'secret', label: 'Signing secret' }],
  headers: ['X-Slack-Signature', 'X-Slack-Request-Timestamp', 'X-Slack-Retry-Num', 'X-Slack-Retry-Reason'],
  handshake: 'A signed "url_verification" event is answered 200 {"challenge": …}',
  dedupe: 'body "event_id"',
  docs_url: 'https://api.slack.com/authentication/verifying-requests-from-slack',
  setup: [
    'In api.slack.com/apps → your app → Basic Information → App Credentials, copy the Signing Secret and paste it here.',
    'Save the flow, then paste the URL under Event Subscriptions → Request URL (and, for buttons and modals, under Interactivity & Shortcuts).',
    "Slack's url_verification is answered with its challenge at once: the Request URL shows Verified.",
  ],
  dedupeKey: bodyKey('event_id'),
  answerAfterAuth: (req) =>
    bodyField(req.body, 'type') === 'url_verification'
      ? { status: 200, json: { challenge: bodyField(req.body, 'challenge') ?? '' } }
      : undefined,
};
