/**
 * Twilio: `X-Twilio-Signature: <base64 HMAC-SHA1(auth_token, url + params)>`, where `url` is the
 * full URL Twilio requested (`input.url`: `PUBLIC_URL` + path + query as received) and `params`
 * the form parameters of an `application/x-www-form-urlencoded` body sorted by name, each name
 * followed by its value. As in twilio's own `getExpectedTwilioSignature`, a name sent several
 * times contributes each distinct value once, values sorted.
 *
 * A JSON (or other non-form) body is signed through the URL only: Twilio adds `bodySHA256` (hex
 * SHA-256 of the body) to the query, so both the signature and that hash must match. A non-form
 * body without `bodySHA256` is refused — nothing would cover it.
 *
 * Like twilio's `validateRequest`, the URL is tried with and without its port (the default port
 * added when there is none): the same endpoint written two ways.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { verifySignatureHeader } from './hmac.ts';
import { fail, type Verifier, type VerifyInput, type VerifyResult } from './types.ts';
import { bytesEqual, decodeHex, hmac, readHeader } from './util.ts';

export const twilioDataSchema = z.strictObject({
  auth_token: z.string().min(1),
});

export type TwilioData = z.output<typeof twilioDataSchema>;

const FORM = 'application/x-www-form-urlencoded';

/** The URL as received and with its port added or removed (twilio's `addPort`/`removePort`). */
export function portVariants(url: string): string[] {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#@]*@)?(\[[^\]/?#]*\]|[^/?#:]*)(:[0-9]*)?([/?#][\s\S]*)?$/i.exec(
    url,
  );
  if (!m) return [url];
  const [, scheme, userInfo = '', host, port, rest = ''] = m;
  const withoutPort = scheme + userInfo + host + rest;
  if (port) return [url, withoutPort];
  const defaultPort = scheme.toLowerCase() === 'https://' ? ':443' : ':80';
  return [url, scheme + userInfo + host + defaultPort + rest];
}

/** Form parameters, sorted and concatenated the way Twilio signs them. */
function signedParams(rawBody: Buffer): string {
  const byName = new Map<string, Set<string>>();
  for (const [name, value] of new URLSearchParams(rawBody.toString('utf8'))) {
    const values = byName.get(name) ?? new Set<string>();
    values.add(value);
    byName.set(name, values);
  }
  let out = '';
  for (const name of [...byName.keys()].sort()) {
    for (const value of [...(byName.get(name) ?? [])].sort()) out += name + value;
  }
  return out;
}

function mediaType(input: VerifyInput): string {
  const field = readHeader(input.headers, 'content-type');
  return field.kind === 'value' ? (field.value.split(';')[0] ?? '').trim().toLowerCase() : '';
}

function expectedSignatures(token: string, input: VerifyInput): Buffer[] | VerifyResult {
  if (typeof input.url !== 'string' || input.url === '') {
    return fail('Twilio signs the request URL, but the public URL of this request is not known');
  }
  let url: URL;
  try {
    url = new URL(input.url);
  } catch {
    return fail('The request URL is not a valid absolute URL');
  }
  const hashes = url.searchParams.getAll('bodySHA256');
  let params = '';
  if (hashes.length > 1) return fail('Multiple bodySHA256 query parameters');
  if (hashes.length === 1) {
    const received = decodeHex(hashes[0]);
    const actual = createHash('sha256').update(input.rawBody).digest();
    if (!received || !bytesEqual(received, actual)) return fail('bodySHA256 does not match the body');
  } else if (input.rawBody.length > 0) {
    if (mediaType(input) !== FORM) {
      return fail(`A Twilio request body must be ${FORM} or covered by a bodySHA256 query parameter`);
    }
    params = signedParams(input.rawBody);
  }
  return portVariants(input.url).map((candidate) => hmac('sha1', token, candidate, params));
}

export const twilioVerifier: Verifier<typeof twilioDataSchema> = {
  schema: twilioDataSchema,
  verify(data, input) {
    return verifySignatureHeader(input, { header: 'X-Twilio-Signature', encoding: 'base64' }, () =>
      expectedSignatures(data.auth_token, input),
    );
  },
};
