/**
 * Validation of endpoint fields shared by the endpoint routes and the check route: URL syntax,
 * custom headers, and auth (inline or by credential).
 */
import { z } from 'zod';
import { OutboundClient, OutboundError } from '../httpClient.ts';

/**
 * Syntax check of an endpoint URL with the outbound client's own rules (http/https, no
 * credentials in the URL). Private and loopback targets are not refused here: the guard refuses
 * them when sending, where the operator's allow-list applies.
 */
const urlChecker = new OutboundClient({ allowPrivateTargets: ['0.0.0.0/0', '::/0'] });

export const urlSchema = z
  .string()
  .trim()
  .min(1)
  .max(2048)
  .superRefine((value, ctx) => {
    try {
      urlChecker.checkUrl(value);
    } catch (err) {
      ctx.addIssue({
        code: 'custom',
        message: err instanceof OutboundError ? err.message : 'Not a valid URL',
      });
    }
  });

export const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
export const HEADER_VALUE = /^[^\r\n\0]*$/;
/** Set by Hookflow itself (signature, framing) — a custom header may not replace them. */
export const RESERVED_HEADERS = new Set([
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
]);

const headerName = z.string().min(1).max(200).regex(HEADER_NAME, 'Not a valid HTTP header name');
export const headerValue = (what: string) =>
  z.string().max(8192).regex(HEADER_VALUE, `${what} may not contain line breaks or NUL`);

export const headersSchema = z
  .record(z.string(), headerValue('A header value'))
  .superRefine((headers, ctx) => {
    const seen = new Set<string>();
    const names = Object.keys(headers);
    if (names.length > 50) ctx.addIssue({ code: 'custom', message: 'At most 50 headers' });
    for (const name of names) {
      const lower = name.toLowerCase();
      if (!HEADER_NAME.test(name) || name.length > 200)
        ctx.addIssue({ code: 'custom', path: [name], message: 'Not a valid HTTP header name' });
      else if (RESERVED_HEADERS.has(lower))
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message: `"${lower}" is set by Hookflow and cannot be overridden`,
        });
      else if (seen.has(lower))
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message: 'Header given twice (names are case-insensitive)',
        });
      seen.add(lower);
    }
  })
  .transform((headers) => Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])));

const credentialId = z.string().trim().min(1).max(100);

/**
 * Auth: `none`, or basic/api_key/bearer either inline or by `credential_id`. With `requireSecret`
 * false (updates) an inline auth may leave its secret out to keep the stored one.
 */
export function authSchema(requireSecret: boolean) {
  const secretRequired = (
    a: { credential_id?: string } & Record<string, unknown>,
    ctx: z.RefinementCtx,
    fields: string[],
    secretField: string,
  ) => {
    if (a.credential_id !== undefined) {
      for (const f of fields)
        if (a[f] !== undefined)
          ctx.addIssue({ code: 'custom', path: [f], message: `Give either ${f} or credential_id, not both` });
      return;
    }
    for (const f of fields)
      if (a[f] === undefined && (f !== secretField || requireSecret))
        ctx.addIssue({ code: 'custom', path: [f], message: `${f} is required (or give a credential_id)` });
  };
  return z.discriminatedUnion('type', [
    z.object({ type: z.literal('none') }).strict(),
    z
      .object({
        type: z.literal('basic'),
        username: z
          .string()
          .min(1)
          .max(500)
          .regex(/^[^:\r\n\0]*$/, 'A basic auth username may not contain ":" or line breaks')
          .optional(),
        password: z
          .string()
          .min(1)
          .max(1000)
          .regex(HEADER_VALUE, 'may not contain line breaks or NUL')
          .optional(),
        credential_id: credentialId.optional(),
      })
      .strict()
      .superRefine((a, ctx) => secretRequired(a, ctx, ['username', 'password'], 'password')),
    z
      .object({
        type: z.literal('api_key'),
        header: headerName
          .refine((h) => !RESERVED_HEADERS.has(h.toLowerCase()), 'This header is set by Hookflow')
          .optional(),
        value: headerValue('An API key').min(1).optional(),
        credential_id: credentialId.optional(),
      })
      .strict()
      .superRefine((a, ctx) => secretRequired(a, ctx, ['header', 'value'], 'value')),
    z
      .object({
        type: z.literal('bearer'),
        token: headerValue('A token').min(1).optional(),
        credential_id: credentialId.optional(),
      })
      .strict()
      .superRefine((a, ctx) => secretRequired(a, ctx, ['token'], 'token')),
  ]);
}
