/**
 * GitHub webhooks: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, rawBody)>`.
 * The legacy SHA-1 `X-Hub-Signature` is deliberately not accepted.
 */
import { z } from 'zod';
import { fail, OK, type Verifier } from './types.ts';
import { bytesEqual, decodeHex, hmac, readHeader } from './util.ts';

export const githubDataSchema = z.strictObject({
  secret: z.string().min(1),
});

export type GithubData = z.output<typeof githubDataSchema>;

export const githubVerifier: Verifier<typeof githubDataSchema> = {
  schema: githubDataSchema,
  verify(data, input) {
    const header = readHeader(input.headers, 'x-hub-signature-256');
    if (header.kind === 'missing') return fail('Missing X-Hub-Signature-256 header');
    if (header.kind === 'multiple') return fail('Multiple X-Hub-Signature-256 headers');
    const match = /^sha256=([0-9a-fA-F]{64})$/.exec(header.value.trim());
    const received = match ? decodeHex(match[1]) : undefined;
    if (!received) return fail('Malformed X-Hub-Signature-256 header');
    const expected = hmac('sha256', data.secret, input.rawBody);
    return bytesEqual(received, expected) ? OK : fail('Signature does not match');
  },
};
