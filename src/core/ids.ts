/**
 * Identifiers: `<prefix>_<26 chars>`, Crockford base32 of a 48-bit millisecond time followed by
 * 80 random bits (ULID layout). Lexical order is creation order, which gives cursor pagination
 * and index locality for free.
 */
import { randomFillSync } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

let lastMs = 0;
let lastTime = '';
const lastRandom = Buffer.alloc(10);

function encodeTime(ms: number): string {
  let out = '';
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[ms % 32] + out;
    ms = Math.floor(ms / 32);
  }
  return out;
}

/** 40 bits (5 bytes from `at`) → 8 base32 chars; exact in a double, no BigInt. */
function encode40(bytes: Buffer, at: number): string {
  let n =
    bytes[at] * 2 ** 32 +
    bytes[at + 1] * 2 ** 24 +
    bytes[at + 2] * 2 ** 16 +
    bytes[at + 3] * 2 ** 8 +
    bytes[at + 4];
  let out = '';
  for (let i = 0; i < 8; i++) {
    out = ALPHABET[n % 32] + out;
    n = Math.floor(n / 32);
  }
  return out;
}

/** Monotonic within a process: ids made in the same millisecond still sort in creation order. */
export function newId(prefix: string, nowMs = Date.now()): string {
  if (nowMs <= lastMs) {
    // Same (or an earlier) millisecond: the previous random part plus one.
    for (let i = lastRandom.length - 1; i >= 0; i--) {
      if (lastRandom[i] === 255) lastRandom[i] = 0;
      else {
        lastRandom[i]++;
        break;
      }
    }
  } else {
    lastMs = nowMs;
    lastTime = encodeTime(nowMs);
    randomFillSync(lastRandom);
  }
  return `${prefix}_${lastTime}${encode40(lastRandom, 0)}${encode40(lastRandom, 5)}`;
}

/** The creation time encoded in an id made by newId, or undefined. */
export function idTime(id: string): Date | undefined {
  const m = /_([0-9A-HJKMNP-TV-Z]{26})$/.exec(id);
  if (!m) return undefined;
  let ms = 0;
  for (const ch of m[1].slice(0, 10)) ms = ms * 32 + ALPHABET.indexOf(ch);
  return new Date(ms);
}
