/**
 * SMTP credentials (outbound e-mail). Stored like the others but not an inbound verifier:
 * `verifyRequest('smtp', …)` is always rejected by the registry.
 */
import { z } from 'zod';

export const smtpDataSchema = z.strictObject({
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  secure: z.boolean().optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  from: z.string().optional(),
});

export type SmtpData = z.output<typeof smtpDataSchema>;
