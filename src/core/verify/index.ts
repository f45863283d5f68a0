/**
 * Inbound request verification: one registry from credential type to {zod schema of the credential
 * `data`, pure verifier}. Callers (ingest, API) go through `verifyRequest` and
 * `credentialDataSchemas` only — there are no per-provider branches anywhere else. Adding a scheme
 * means adding one file here and one registry entry.
 *
 * Everything is pure (the clock is `input.nowMs`) and total: malformed input, malformed stored
 * data and unknown types all come back as `{ ok: false, reason }`, never as an exception.
 */
import type { z } from 'zod';
import { apiKeyDataSchema, apiKeyVerifier } from './apiKey.ts';
import { basicDataSchema, basicVerifier } from './basic.ts';
import { bearerDataSchema, bearerVerifier } from './bearer.ts';
import { dropboxDataSchema, dropboxVerifier } from './dropbox.ts';
import { githubDataSchema, githubVerifier } from './github.ts';
import { gitlabDataSchema, gitlabVerifier } from './gitlab.ts';
import { hmacDataSchema, hmacVerifier } from './hmac.ts';
import { linearDataSchema, linearVerifier } from './linear.ts';
import { metaDataSchema, metaVerifier } from './meta.ts';
import { shopifyDataSchema, shopifyVerifier } from './shopify.ts';
import { slackDataSchema, slackVerifier } from './slack.ts';
import { smtpDataSchema } from './smtp.ts';
import { squareDataSchema, squareVerifier } from './square.ts';
import { standardWebhooksDataSchema, standardWebhooksVerifier } from './standardWebhooks.ts';
import { stripeDataSchema, stripeVerifier } from './stripe.ts';
import { twilioDataSchema, twilioVerifier } from './twilio.ts';
import { xDataSchema, xVerifier } from './x.ts';
import { zoomDataSchema, zoomVerifier } from './zoom.ts';
import { fail, type Verifier, type VerifyInput, type VerifyResult } from './types.ts';

export type { ApiKeyData } from './apiKey.ts';
export type { BasicData } from './basic.ts';
export type { BearerData } from './bearer.ts';
export type { DropboxData } from './dropbox.ts';
export type { GithubData } from './github.ts';
export type { GitlabData } from './gitlab.ts';
export type { HmacData, HmacDataInput } from './hmac.ts';
export { signHmac } from './hmac.ts';
export type { LinearData } from './linear.ts';
export { LINEAR_TOLERANCE_MS } from './linear.ts';
export type { MetaData } from './meta.ts';
export type { ShopifyData } from './shopify.ts';
export type { SlackData } from './slack.ts';
export { SLACK_TOLERANCE_S } from './slack.ts';
export type { SmtpData } from './smtp.ts';
export type { SquareData } from './square.ts';
export type { StandardWebhooksData } from './standardWebhooks.ts';
export { STANDARD_WEBHOOKS_TOLERANCE_S } from './standardWebhooks.ts';
export type { StripeData } from './stripe.ts';
export { STRIPE_TOLERANCE_S } from './stripe.ts';
export type { TwilioData } from './twilio.ts';
export type { XData } from './x.ts';
export type { ZoomData } from './zoom.ts';
export { ZOOM_TOLERANCE_S } from './zoom.ts';
export type { Verifier, VerifyInput, VerifyResult } from './types.ts';

/** Credential types that can authenticate an inbound webhook request. */
export const CREDENTIAL_TYPES = [
  'basic',
  'api_key',
  'hmac',
  'standard_webhooks',
  'github',
  'stripe',
  'bearer',
  'gitlab',
  'slack',
  'zoom',
  'shopify',
  'twilio',
  'meta',
  'x',
  'dropbox',
  'linear',
  'square',
] as const;
export type CredentialType = (typeof CREDENTIAL_TYPES)[number];

/** Every type a stored credential may have (docs/api.md §6.1): the inbound ones plus `smtp`. */
export const STORED_CREDENTIAL_TYPES = [...CREDENTIAL_TYPES, 'smtp'] as const;
export type StoredCredentialType = (typeof STORED_CREDENTIAL_TYPES)[number];

/**
 * Types whose check reads only headers and query, so ingest can refuse a request before reading
 * its body. Every other type covers the body (or, twilio/square, the URL and the body).
 */
const HEADER_ONLY_TYPES: ReadonlySet<string> = new Set<CredentialType>([
  'basic',
  'api_key',
  'bearer',
  'gitlab',
]);

/** Whether the check of `type` needs the request body (true for unknown types: they fail later). */
export function verificationNeedsBody(type: string): boolean {
  return !HEADER_ONLY_TYPES.has(type);
}

export function isCredentialType(type: unknown): type is CredentialType {
  return typeof type === 'string' && (CREDENTIAL_TYPES as readonly string[]).includes(type);
}

export function isStoredCredentialType(type: unknown): type is StoredCredentialType {
  return typeof type === 'string' && (STORED_CREDENTIAL_TYPES as readonly string[]).includes(type);
}

/**
 * zod schemas of each credential type's `data`, for validating `POST /api/v1/credentials`.
 * Objects are strict (unknown keys rejected); `parse` fills defaults (hmac: sha256, hex, "").
 * Store the parsed output.
 */
export const credentialDataSchemas = {
  basic: basicDataSchema,
  api_key: apiKeyDataSchema,
  hmac: hmacDataSchema,
  standard_webhooks: standardWebhooksDataSchema,
  github: githubDataSchema,
  stripe: stripeDataSchema,
  bearer: bearerDataSchema,
  gitlab: gitlabDataSchema,
  slack: slackDataSchema,
  zoom: zoomDataSchema,
  shopify: shopifyDataSchema,
  twilio: twilioDataSchema,
  meta: metaDataSchema,
  x: xDataSchema,
  dropbox: dropboxDataSchema,
  linear: linearDataSchema,
  square: squareDataSchema,
  smtp: smtpDataSchema,
} as const satisfies Record<StoredCredentialType, z.ZodType>;

export type CredentialData = {
  [K in StoredCredentialType]: z.output<(typeof credentialDataSchemas)[K]>;
};

const verifiers: { readonly [K in CredentialType]: Verifier<(typeof credentialDataSchemas)[K]> } = {
  basic: basicVerifier,
  api_key: apiKeyVerifier,
  hmac: hmacVerifier,
  standard_webhooks: standardWebhooksVerifier,
  github: githubVerifier,
  stripe: stripeVerifier,
  bearer: bearerVerifier,
  gitlab: gitlabVerifier,
  slack: slackVerifier,
  zoom: zoomVerifier,
  shopify: shopifyVerifier,
  twilio: twilioVerifier,
  meta: metaVerifier,
  x: xVerifier,
  dropbox: dropboxVerifier,
  linear: linearVerifier,
  square: squareVerifier,
};

function isValidInput(input: unknown): input is VerifyInput {
  if (typeof input !== 'object' || input === null) return false;
  const i = input as Partial<VerifyInput>;
  return (
    Buffer.isBuffer(i.rawBody) &&
    typeof i.nowMs === 'number' &&
    Number.isFinite(i.nowMs) &&
    (i.url === undefined || typeof i.url === 'string')
  );
}

/**
 * Checks one inbound request against one stored credential. `type` is the webhook node's
 * `auth.type` (which must equal the credential's type); `credentialData` is the decrypted `data`.
 * `none`, `smtp` and unknown types are rejected: the caller skips verification for `none` itself.
 */
export function verifyRequest(type: string, credentialData: unknown, input: VerifyInput): VerifyResult {
  try {
    if (type === 'smtp') return fail('SMTP credentials cannot authenticate inbound requests');
    if (!isCredentialType(type)) return fail('Unsupported authentication type');
    const verifier = verifiers[type] as Verifier<z.ZodType>;
    const parsed = verifier.schema.safeParse(credentialData);
    // The zod issues are not echoed: they could quote parts of the stored secret.
    if (!parsed.success) return fail(`Stored credential is not valid ${type} credential data`);
    if (!isValidInput(input)) return fail('Invalid request input');
    return verifier.verify(parsed.data, input);
  } catch {
    return fail('Request verification failed');
  }
}
