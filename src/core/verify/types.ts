/**
 * Shared types of the inbound verifiers. Re-exported from `./index.ts`; kept in their own module so
 * the scheme files can import them without importing the registry (no import cycle).
 */
import type { z } from 'zod';

export type VerifyInput = {
  /** The exact bytes received; signatures are computed over these, never over a re-serialisation. */
  rawBody: Buffer;
  /** Header names in lower case, Node style. A repeated header may arrive as an array. */
  headers: Record<string, string | string[] | undefined>;
  query: Record<string, string | string[] | undefined>;
  /** Injectable clock (milliseconds since the epoch) for timestamp tolerance checks. */
  nowMs: number;
  /**
   * The absolute URL the sender called: `PUBLIC_URL` followed by the path and query exactly as
   * received. Schemes that sign the URL (twilio, square) fail without it.
   */
  url?: string;
};

/** `reason` is a short human sentence for logs and the 401 answer; it never contains a secret. */
export type VerifyResult = { ok: true } | { ok: false; reason: string };

/** A scheme: the zod schema of its credential `data` and a pure check against already-parsed data. */
export type Verifier<S extends z.ZodType> = {
  schema: S;
  verify(data: z.output<S>, input: VerifyInput): VerifyResult;
};

export const OK: VerifyResult = Object.freeze({ ok: true }) as VerifyResult;

export function fail(reason: string): VerifyResult {
  return { ok: false, reason };
}
