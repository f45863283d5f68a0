/**
 * Static bearer token (RFC 6750): `Authorization: Bearer <token>`.
 */
import { z } from 'zod';
import { fail, OK, type Verifier } from './types.ts';
import { readHeader, secretsEqual } from './util.ts';

export const bearerDataSchema = z.strictObject({
  token: z.string().min(1),
});

export type BearerData = z.output<typeof bearerDataSchema>;

export const bearerVerifier: Verifier<typeof bearerDataSchema> = {
  schema: bearerDataSchema,
  verify(data, input) {
    const header = readHeader(input.headers, 'authorization');
    if (header.kind === 'missing') return fail('Missing Authorization header');
    if (header.kind === 'multiple') return fail('Multiple Authorization headers');
    const match = /^Bearer[ \t]+(.+)$/i.exec(header.value.trim());
    if (!match) return fail('Authorization header does not carry a Bearer token');
    return secretsEqual(match[1], data.token) ? OK : fail('Invalid bearer token');
  },
};
