/**
 * Crypto helpers for `${= …}` JSONata templates (docs/api.md §3.8): handshakes no preset covers, such as
 * Zoom's `endpoint.url_validation` (`$hmac("sha256", secret, Webhook::Body.payload.plainToken)`).
 *
 *   `$hmac(algorithm, key, message, encoding?)` — HMAC of `message` keyed with `key`
 *   `$hash(algorithm, message, encoding?)`      — digest of `message`
 *
 * `algorithm` is `sha1` | `sha256` | `sha512`; `encoding` is `hex` (the default) | `base64` |
 * `base64url`. Key and message are strings, read as UTF-8.
 *
 * Argument rules:
 * - A missing (undefined) key or message gives an undefined result, like JSONata's own string
 *   functions (`$uppercase(nothing)`): a missing field never hashes as the empty string, and an
 *   HMAC is never computed with an absent secret.
 * - Any other non-string key or message (number, boolean, null, object, array, a sequence of
 *   several values) is an error, not silently stringified: how a number or an object would be
 *   written is ambiguous, and a signature must be computed over exact bytes. Callers convert
 *   explicitly with `$string(…)` (e.g. `$hash("sha256", $string(Webhook::Body))`).
 * - An unknown algorithm or encoding is an error naming the function and the allowed values
 *   (checked even when the message is missing, so a typo is found on the first render).
 * - Too few or too many arguments is an error (a forgotten message is not a silent undefined).
 *
 * Errors are thrown as plain `Error`s; the template renderer turns them into its usual
 * `TemplateError` ("Template expression "${= …}" failed: $hmac: …").
 *
 * The functions are registered on each compiled expression once, at compile time
 * (`registerCryptoFunctions`), so evaluation of expressions that do not call them costs nothing
 * extra. They are pure, synchronous and bounded by the size of their input.
 */

import { createHash, createHmac } from 'node:crypto';
import type jsonata from 'jsonata';

export const CRYPTO_ALGORITHMS = ['sha1', 'sha256', 'sha512'] as const;
export const CRYPTO_ENCODINGS = ['hex', 'base64', 'base64url'] as const;

type Algorithm = (typeof CRYPTO_ALGORITHMS)[number];
type Encoding = (typeof CRYPTO_ENCODINGS)[number];

function algorithmOf(fn: string, value: unknown): Algorithm {
  const found = CRYPTO_ALGORITHMS.find((a) => a === value);
  if (!found) throw new Error(`${fn}: algorithm must be one of ${CRYPTO_ALGORITHMS.join(', ')}`);
  return found;
}

function encodingOf(fn: string, value: unknown): Encoding {
  if (value === undefined) return 'hex';
  const found = CRYPTO_ENCODINGS.find((e) => e === value);
  if (!found) throw new Error(`${fn}: encoding must be one of ${CRYPTO_ENCODINGS.join(', ')}`);
  return found;
}

/** The string argument, `undefined` for a missing one; throws for anything else. */
function stringArg(fn: string, name: string, value: unknown): string | undefined {
  if (value === undefined || typeof value === 'string') return value;
  throw new Error(`${fn}: ${name} must be a string (use $string() to convert other values)`);
}

function arity(fn: string, args: readonly unknown[], min: number, max: number, usage: string): void {
  if (args.length < min || args.length > max) {
    throw new Error(`${fn} takes ${min} or ${max} arguments: ${fn}(${usage})`);
  }
}

/** `$hmac(algorithm, key, message, encoding?)`. */
export function templateHmac(...args: unknown[]): string | undefined {
  arity('$hmac', args, 3, 4, 'algorithm, key, message, encoding?');
  const [algorithm, key, message, encoding] = args;
  const alg = algorithmOf('$hmac', algorithm);
  const enc = encodingOf('$hmac', encoding);
  const k = stringArg('$hmac', 'key', key);
  const m = stringArg('$hmac', 'message', message);
  if (k === undefined || m === undefined) return undefined;
  return createHmac(alg, k).update(m, 'utf8').digest(enc);
}

/** `$hash(algorithm, message, encoding?)`. */
export function templateHash(...args: unknown[]): string | undefined {
  arity('$hash', args, 2, 3, 'algorithm, message, encoding?');
  const [algorithm, message, encoding] = args;
  const alg = algorithmOf('$hash', algorithm);
  const enc = encodingOf('$hash', encoding);
  const m = stringArg('$hash', 'message', message);
  if (m === undefined) return undefined;
  return createHash(alg).update(m, 'utf8').digest(enc);
}

/**
 * Makes `$hmac` and `$hash` available to a compiled expression (and to the functions defined in it). No
 * JSONata signature is given: the arguments are checked here so the errors can say what is
 * allowed, instead of JSONata's generic "does not match function signature".
 */
export function registerCryptoFunctions(expr: jsonata.Expression): void {
  expr.registerFunction('hmac', templateHmac);
  expr.registerFunction('hash', templateHash);
}
