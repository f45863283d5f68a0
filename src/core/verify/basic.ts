/**
 * HTTP Basic (RFC 7617): `Authorization: Basic base64(username:password)`.
 */
import { z } from 'zod';
import { fail, OK, type Verifier } from './types.ts';
import { decodeBase64, readHeader, secretsEqual } from './util.ts';

export const basicDataSchema = z.strictObject({
  // RFC 7617: the user-id cannot contain a colon (the first colon separates it from the password).
  username: z
    .string()
    .min(1)
    .refine((u) => !u.includes(':'), { message: 'username must not contain ":"' }),
  password: z.string().min(1),
});

export type BasicData = z.output<typeof basicDataSchema>;

export const basicVerifier: Verifier<typeof basicDataSchema> = {
  schema: basicDataSchema,
  verify(data, input) {
    const header = readHeader(input.headers, 'authorization');
    if (header.kind === 'missing') return fail('Missing Authorization header');
    if (header.kind === 'multiple') return fail('Multiple Authorization headers');
    const match = /^Basic[ \t]+(\S+)[ \t]*$/i.exec(header.value.trim());
    if (!match) return fail('Authorization header does not carry Basic credentials');
    const decoded = decodeBase64(match[1]);
    if (!decoded) return fail('Malformed Basic credentials');
    const pair = decoded.toString('utf8');
    const colon = pair.indexOf(':');
    if (colon < 0) return fail('Malformed Basic credentials');
    // Both comparisons always run, so timing does not tell which half was wrong.
    const userOk = secretsEqual(pair.slice(0, colon), data.username);
    const passOk = secretsEqual(pair.slice(colon + 1), data.password);
    return userOk && passOk ? OK : fail('Invalid username or password');
  },
};
