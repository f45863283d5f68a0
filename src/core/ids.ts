/**
 * Identifiers: `<prefix>_<26 chars>`, Crockford base32 of a 48-bit millisecond time followed by
 * 80 random bits (ULID layout). Lexical order is creation order, which gives cursor pagination
 * and index locality for free.
 */
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

let lastMs = 0;
let lastRandom = Buffer.alloc(10);

function encodeTime(ms: number): string {
  let out = '';
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[ms % 32] + out;
    ms = Math.floor(ms / 32);
  }
  return out;
}

function encodeRandom(bytes: Buffer): string {
  // 80 bits → 16 base32 chars
  let bits = 0n;
  for (const b of bytes) bits = (bits << 8n) | BigInt(b);
  let out = '';
  for (let i = 0; i < 16; i++) {
    out = ALPHABET[Number(bits & 31n)] + out;
    bits >>= 5n;
  }
  return out;
}

/** Monotonic within a process: ids made in the same millisecond still sort in creation order. */
export function newId(prefix: string, nowMs = Date.now()): string {
  if (nowMs <= lastMs) {
    nowMs = lastMs;
    const next = Buffer.from(lastRandom);
    for (let i = next.length - 1; i >= 0; i--) {
      if (next[i] === 255) next[i] = 0;
      else {
        next[i]++;
        break;
      }
    }
    lastRandom = next;
  } else {
    lastMs = nowMs;
    lastRandom = randomBytes(10);
  }
  return `${prefix}_${encodeTime(nowMs)}${encodeRandom(lastRandom)}`;
}

/** The creation time encoded in an id made by newId, or undefined. */
export function idTime(id: string): Date | undefined {
  const m = /_([0-9A-HJKMNP-TV-Z]{26})$/.exec(id);
  if (!m) return undefined;
  let ms = 0;
  for (const ch of m[1].slice(0, 10)) ms = ms * 32 + ALPHABET.indexOf(ch);
  return new Date(ms);
}
