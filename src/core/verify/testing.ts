/** Test helpers for the verifier tests (not used by production code). */
import { expect } from 'vitest';
import type { VerifyInput, VerifyResult } from './types.ts';

export const NOW_MS = Date.UTC(2025, 5, 1, 12, 0, 0);
export const NOW_S = Math.floor(NOW_MS / 1000);

export function request(parts: Partial<VerifyInput> & { body?: string | Buffer } = {}): VerifyInput {
  const { body, ...rest } = parts;
  return {
    rawBody: Buffer.isBuffer(body) ? body : Buffer.from(body ?? '', 'utf8'),
    headers: {},
    query: {},
    nowMs: NOW_MS,
    ...rest,
  };
}

export function expectAccepted(result: VerifyResult): void {
  expect(result).toEqual({ ok: true });
}

/**
 * Asserts a rejection with a non-empty reason that matches `reason` (if given) and quotes none of
 * the `secrets`.
 */
export function expectRejected(result: VerifyResult, reason?: RegExp | string, secrets: string[] = []): void {
  expect(result.ok).toBe(false);
  if (result.ok) return;
  expect(typeof result.reason).toBe('string');
  expect(result.reason.length).toBeGreaterThan(0);
  if (typeof reason === 'string') expect(result.reason).toBe(reason);
  else if (reason) expect(result.reason).toMatch(reason);
  for (const secret of secrets) expect(result.reason).not.toContain(secret);
}
