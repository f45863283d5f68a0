import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SLACK_TOLERANCE_S, verifyRequest } from './index.ts';
import { expectAccepted, expectRejected, request, signedSchemeCases } from './testing.ts';

// The worked example of https://api.slack.com/authentication/verifying-requests-from-slack
const DOCS = {
  secret: '8f742231b10e8888abcd99yyyzzz85a5',
  timestamp: '1531420618',
  body:
    'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V' +
    '&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=' +
    '&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN' +
    '&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c',
  signature: 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
};

const sign = (data: Record<string, string>, body: string, ts: number) => ({
  'x-slack-request-timestamp': String(ts),
  'x-slack-signature': `v0=${createHmac('sha256', data.secret).update(`v0:${ts}:${body}`).digest('hex')}`,
});

describe('slack verifier', () => {
  it("accepts Slack's documented example request", () => {
    const headers = { 'x-slack-request-timestamp': DOCS.timestamp, 'x-slack-signature': DOCS.signature };
    const at = (s: number) =>
      request({ headers, body: DOCS.body, nowMs: (Number(DOCS.timestamp) + s) * 1000 });
    expectAccepted(verifyRequest('slack', { secret: DOCS.secret }, at(0)));
    expectAccepted(verifyRequest('slack', { secret: DOCS.secret }, at(SLACK_TOLERANCE_S)));
    expectRejected(verifyRequest('slack', { secret: DOCS.secret }, at(SLACK_TOLERANCE_S + 1)), /tolerance/);
    expectRejected(verifyRequest('slack', { secret: `${DOCS.secret}x` }, at(0)), 'Signature does not match');
    expect(sign({ secret: DOCS.secret }, DOCS.body, Number(DOCS.timestamp))['x-slack-signature']).toBe(
      DOCS.signature,
    );
  });

  signedSchemeCases({
    type: 'slack',
    data: { secret: 'slack-signing-secret-1' },
    header: 'X-Slack-Signature',
    body: 'token=abc&team_id=T1&command=%2Fdeploy&text=prod',
    sign,
    malformed: [
      'a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503', // no v0=
      'v1=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
      'v0=a2114d57',
      `v0=${'z'.repeat(64)}`,
    ],
    timestamp: { header: 'X-Slack-Request-Timestamp', toleranceS: SLACK_TOLERANCE_S },
  });
});
