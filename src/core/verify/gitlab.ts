/** GitLab: `X-Gitlab-Token` equals the webhook's secret token (no signature; compared in constant time). */
import { z } from 'zod';
import { verifyStaticSecret } from './apiKey.ts';
import type { Verifier } from './types.ts';
import { readHeader } from './util.ts';

export const gitlabDataSchema = z.strictObject({
  token: z.string().min(1),
});

export type GitlabData = z.output<typeof gitlabDataSchema>;

export const gitlabVerifier: Verifier<typeof gitlabDataSchema> = {
  schema: gitlabDataSchema,
  verify: (data, input) =>
    verifyStaticSecret(
      readHeader(input.headers, 'x-gitlab-token'),
      'X-Gitlab-Token header',
      data.token,
      'Invalid X-Gitlab-Token',
    ),
};
