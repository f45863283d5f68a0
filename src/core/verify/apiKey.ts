/**
 * Static API key, sent in a named header (name matched case-insensitively) or query parameter.
 */
import { z } from 'zod';
import { fail, OK, type Verifier, type VerifyResult } from './types.ts';
import { type FieldValue, HTTP_TOKEN, readHeader, readQuery, secretsEqual } from './util.ts';

export const apiKeyDataSchema = z
  .strictObject({
    in: z.enum(['header', 'query']),
    name: z.string().min(1),
    value: z.string().min(1),
  })
  .refine((d) => d.in !== 'header' || HTTP_TOKEN.test(d.name), {
    message: 'name is not a valid HTTP header name',
    path: ['name'],
  });

export type ApiKeyData = z.output<typeof apiKeyDataSchema>;

export const apiKeyVerifier: Verifier<typeof apiKeyDataSchema> = {
  schema: apiKeyDataSchema,
  verify(data, input) {
    const where = data.in === 'header' ? `${data.name} header` : `${data.name} query parameter`;
    const field =
      data.in === 'header' ? readHeader(input.headers, data.name) : readQuery(input.query, data.name);
    return verifyStaticSecret(field, where, data.value, 'Invalid API key');
  },
};

/**
 * A static secret in one header or query parameter (`where` names it in reasons): there once,
 * and equal to `expected` in constant time. Also gitlab's `X-Gitlab-Token`.
 */
export function verifyStaticSecret(
  field: FieldValue,
  where: string,
  expected: string,
  invalid: string,
): VerifyResult {
  if (field.kind === 'missing') return fail(`Missing ${where}`);
  if (field.kind === 'multiple') return fail(`Multiple values for ${where}`);
  return secretsEqual(field.value, expected) ? OK : fail(invalid);
}
