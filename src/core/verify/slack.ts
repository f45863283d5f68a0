/**
 * Slack: `X-Slack-Signature: v0=<hex HMAC-SHA256(secret, "v0:{X-Slack-Request-Timestamp}:{rawBody}")>`,
 * the timestamp (unix seconds) within 300 s of now, as Slack's docs require.
 */
import type { z } from 'zod';
import { v0Scheme } from './hmac.ts';

export const SLACK_TOLERANCE_S = 300;

export const { schema: slackDataSchema, verifier: slackVerifier } = v0Scheme(
  'X-Slack-Signature',
  'X-Slack-Request-Timestamp',
  SLACK_TOLERANCE_S,
);

export type SlackData = z.output<typeof slackDataSchema>;
