/**
 * GitHub webhooks: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, rawBody)>`.
 * The legacy SHA-1 `X-Hub-Signature` is deliberately not accepted.
 */
import type { z } from 'zod';
import { oneSecretHmacScheme } from './hmac.ts';

export const { schema: githubDataSchema, verifier: githubVerifier } = oneSecretHmacScheme('secret', {
  header: 'X-Hub-Signature-256',
  prefix: 'sha256=',
  encoding: 'hex',
});

export type GithubData = z.output<typeof githubDataSchema>;
